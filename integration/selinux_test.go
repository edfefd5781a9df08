package integration

import (
	"reflect"
	"testing"
)

func TestAVCDenials(t *testing.T) {
	log := `[    5.100000] ransomeye-test kernel: audit: type=1400 audit(1764614400.120:3): avc:  denied  { getsched } for  pid=201 comm="ransomeye-tuner" scontext=system_u:system_r:systemd_generator_t:s0 tcontext=system_u:system_r:systemd_generator_t:s0 tclass=process permissive=1
[    5.200000] ransomeye-test kernel: audit: type=1400 audit(1764614400.220:4): avc:  denied  { getsched } for  pid=202 comm="ransomeye-tuner" scontext=system_u:system_r:systemd_generator_t:s0 tcontext=system_u:system_r:systemd_generator_t:s0 tclass=process permissive=1
[    9.000000] ransomeye-test audit[310]: AVC avc:  denied  { relabelfrom } for  pid=310 comm="mkswap" name=".ransomeye-swap.tmp.300" dev="nvme1n1" ino=12 scontext=system_u:system_r:fsadm_t:s0 tcontext=system_u:object_r:unlabeled_t:s0 tclass=file permissive=1
[    9.500000] ransomeye-test kernel: audit: type=1400 audit(1764614404.1:9): avc:  denied  { read } for  pid=99 comm="systemd-logind" name="seats" scontext=system_u:system_r:systemd_logind_t:s0 tcontext=system_u:object_r:var_run_t:s0 tclass=dir permissive=1
[   10.000000] ransomeye-test systemd[1]: Started ransomeye-core.service.
`
	all, tuner := AVCDenials(log)
	if len(all) != 3 {
		t.Errorf("all: got %d distinct denials, want 3 (the two getsched differ only in pid and time): %q", len(all), all)
	}
	want := []string{
		`avc:  denied  { getsched } for  comm="ransomeye-tuner" scontext=system_u:system_r:systemd_generator_t:s0 tcontext=system_u:system_r:systemd_generator_t:s0 tclass=process permissive=1`,
		`avc:  denied  { relabelfrom } for  comm="mkswap" name=".ransomeye-swap.tmp.300" dev="nvme1n1" scontext=system_u:system_r:fsadm_t:s0 tcontext=system_u:object_r:unlabeled_t:s0 tclass=file permissive=1`,
	}
	if !reflect.DeepEqual(tuner, want) {
		t.Errorf("tuner's denials:\n got %q\nwant %q", tuner, want)
	}
	if a, b := AVCDenials("systemd[1]: Started foo.service.\n"); a != nil || b != nil {
		t.Errorf("a log without denials gave %q, %q", a, b)
	}
}
