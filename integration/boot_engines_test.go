//go:build vmtest

package integration

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/names"
)

// suricataCase is a boot of Debian 13's Suricata 7 as the DPI service on
// ens1f0, a two-queue virtio NIC on the host tap named by a .link file
// (the name ransomeye-tuner(8)'s recipe uses), configured with the man
// page's drop-in and script word for word, the package's own
// suricata.service masked (an empty unit file is a masked one).
func suricataCase(name, shows, tap string, args []string, check func(*testing.T, *suite, Report)) bootCase {
	// everySuite: the run boots the layer's suite (trixie); the others
	// skip it, naming the layer's suite.
	return bootCase{name: name, layer: "suricata", everySuite: true, shows: shows,
		mem: 4096, cpus: 8, disk: 20 * gib, nic: tap, nicQueues: 2, timeout: 15 * time.Minute,
		args: append([]string{"systemd.wants=systemd-networkd.service", "systemd.wants=systemd-networkd-wait-online.service"}, args...),
		rootFiles: map[string]string{
			"/etc/ransomeye/tuner.conf":               "# boot suite " + name + "\n[CPU]\nDPIInterface=ens1f0\n",
			"/etc/systemd/network/10-capture.link":    "# boot suite " + name + "\n[Match]\nMACAddress=" + GuestMAC + "\n\n[Link]\nName=ens1f0\n",
			"/etc/systemd/network/50-capture.network": "# boot suite " + name + "\n" + captureNetwork("ens1f0"),
			"/etc/systemd/system/suricata.service":    "",
		},
		manFiles: []string{SuricataDropIn, SuricataScript},
		check:    check}
}

// engineCases are the boots with the engines users run beside the tuner:
// Suricata as the DPI service, PostgreSQL as the core.
func engineCases() []bootCase {
	return []bootCase{
		suricataCase("30_suricata_dpi", "Suricata 7 as the DPI service, configured as ransomeye-tuner(8) shows, then with threads: auto and its default CPU sets",
			"rtcap1", nil, func(t *testing.T, s *suite, r Report) { checkSuricata(t, r, false) }),
		// systemd 257 refuses cgroup v1 unless told to
		// (SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1; 258 drops it): the
		// platform of RHEL 8 and other cgroup v1 machines, with Debian
		// 13's Suricata 7.
		suricataCase("31_suricata_cgroup_v1", "the same on cgroup v1 (CPUAffinity= only): the recipe keeps Suricata inside the DPI CPUs, its defaults escape and status names them",
			"rtcap4", []string{"systemd.unified_cgroup_hierarchy=0", "SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1"},
			func(t *testing.T, s *suite, r Report) { checkSuricata(t, r, true) }),
		{name: "32_postgresql_core", layer: "postgresql",
			shows: "Debian 12's PostgreSQL 15 as the core (CoreService=postgresql@15-main.service): gated, started, every process on the core's CPUs",
			mem:   4096, cpus: 8, disk: 20 * gib, timeout: 10 * time.Minute,
			manFiles: []string{PostgreSQLConf},
			check:    checkPostgreSQL},
		{name: "32b_postgresql_core_kept_down", layer: "postgresql",
			shows: "the same PostgreSQL core on a data disk an operator's 18 GiB file fills: kept down with the reason; the file removed and the printed remedy run word for word, it runs",
			mem:   4096, cpus: 8, disk: 20 * gib, timeout: 10 * time.Minute,
			args:     []string{"systemd.wants=ransomeye-test-early.service"},
			manFiles: []string{PostgreSQLConf},
			check:    checkPostgreSQLKeptDown},
	}
}

// pgCore is Debian 12's PostgreSQL cluster unit, the core of cases 32
// (their configuration is ransomeye-tuner(8)'s recipe).
const pgCore = PostgreSQLCore

// wantPostgresPinned checks a pg_record record of a running core: the
// postmaster as postgres, its unit and cgroup on the core's CPUs 0-3, and
// every process of its cgroup (background processes and a client
// backend) allowed only those.
func wantPostgresPinned(t *testing.T, r Report, p string) {
	t.Helper()
	wantEq(t, r, p+".state", "active")
	wantEq(t, r, p+".substate", "running")
	wantEq(t, r, p+".main_user", "postgres")
	wantEq(t, r, p+".allowed_cpus", "0-3")
	wantEq(t, r, p+".cgroup_cpus", "0-3")
	wantEq(t, r, p+".select_one", "1")
	backend := false
	var procs []string
	for k, v := range r.Values {
		if !strings.HasPrefix(k, p+".proc.") {
			continue
		}
		cmd, cpus, _ := strings.Cut(v, "|")
		if cpus != "0-3" {
			t.Errorf("%s: %s (pid %s) may run on %q, want the core's CPUs 0-3", p, cmd, strings.TrimPrefix(k, p+".proc."), cpus)
		}
		if strings.Contains(cmd, "SELECT") {
			backend = true
		}
		procs = append(procs, cmd+" "+cpus)
	}
	sort.Strings(procs)
	if n, _ := r.Int(p + ".procs"); n < 5 || !backend {
		t.Errorf("%s: %d processes read, a client backend among them: %v (want the postmaster, its background processes and a backend)", p, n, backend)
	}
	t.Logf("%s: processes of %s: %s", p, pgCore, strings.Join(procs, "; "))
}

// checkPostgreSQL checks case 32: a healthy machine whose core is
// PostgreSQL: the gate said yes, the generated drop-ins (gate and CPUs)
// apply to the cluster's unit, and it runs on the core's CPUs.
func checkPostgreSQL(t *testing.T, s *suite, r Report) {
	wantEq(t, r, "unit.ransomeye-tuner.service.Result", "success")
	wantEq(t, r, "marker.exists", "no")
	if b := r.Blocks["status"]; b.RC != 0 {
		t.Errorf("status exited %d, want 0 (compliant):\n%s", b.RC, b.Text)
	}
	wantMatch(t, "status", r.Text("status"), regexp.QuoteMeta(pgCore))
	wantEq(t, r, "case.pg.condition", "yes")
	wantPostgresPinned(t, r, "case.pg")
	for _, want := range []string{`/` + regexp.QuoteMeta(pgCore) + `\.d/ransomeye-tuner-gate\.conf`, `/` + regexp.QuoteMeta(pgCore) + `\.d/cpu-isolation\.conf`} {
		wantMatch(t, "the cluster unit's drop-ins", r.Text("case-pg-dropins"), want)
	}
}

// checkPostgreSQLKeptDown checks case 32b: the swapfile could not be made,
// so the cluster never started (the gate skipped it) and the marker and
// status say why; after the operator removed the file and ran the remedy
// status printed, swap is on, the marker gone, and PostgreSQL runs pinned.
func checkPostgreSQLKeptDown(t *testing.T, s *suite, r Report) {
	wantEq(t, r, "unit.ransomeye-test-early.service.Result", "success")
	wantEq(t, r, "case.down.condition", "no")
	wantEq(t, r, "case.down.main_start_us", "0")
	if st := r.Get("case.down.state"); st == "active" || st == "activating" {
		t.Errorf("%s is %s on a machine without its swap", pgCore, st)
	}
	wantMatch(t, "the marker's reason", reasons(r.Text("case-down-marker")), `(?i)(free|space)`)
	if b := r.Blocks["case-down-status"]; b.RC == 0 {
		t.Errorf("status exited 0 with the core kept down:\n%s", b.Text)
	}
	wantMatch(t, "status's reason", reasons(r.Text("case-down-status")), `(?i)(free|space)`)
	// The gate's reason, in the journal (systemctl status of the skipped
	// instance shows none of its lines), naming the configured core.
	wantMatch(t, "the journal", s.journal(t), `may not start: .*not enough space`)
	wantMatch(t, "the journal", s.journal(t), regexp.QuoteMeta(pgCore)+` may not start: `)
	// The marker names the configured core; nothing is blamed for a sysctl
	// activate never got to (the package's sysctl.d file set them at boot).
	wantEq(t, r, "case.marker_header", "# ransomeye-tuner: "+pgCore+" does not start while this file exists.")
	if strings.Contains(r.Text("case-down-status"), "something set it after") {
		t.Errorf("status blames something that set a sysctl activate never set:\n%s", r.Text("case-down-status"))
	}
	b := r.Blocks["case-remedy-output"]
	t.Logf("remedies printed: status %q, marker %q; run: %q (exit %d):\n%s", r.Get("case.status_remedies"), r.Get("case.marker_remedy"), r.Get("case.remedy_run"), b.RC, b.Text)
	if r.Get("case.remedy_run") == "" {
		t.Fatalf("status printed no remedy command (then: ...):\n%s", r.Text("case-down-status-json"))
	}
	// One remedy, the same everywhere: status's and the marker's.
	wantEq(t, r, "case.status_remedies", names.RecoverCommand)
	wantEq(t, r, "case.marker_remedy", names.RecoverCommand)
	t.Logf("after the remedy: swap %s, activator %s, marker %s, %s %s/%s",
		r.Get("case.after.swap"), r.Get("case.after.tuner"), r.Get("case.after.marker"), pgCore, r.Get("case.after.state"), r.Get("case.after.substate"))
	if b.RC != 0 {
		t.Errorf("the printed remedy %q exited %d", r.Get("case.remedy_run"), b.RC)
	}
	wantEq(t, r, "case.after.swap", "active")
	wantEq(t, r, "case.after.marker", "absent")
	wantPostgresPinned(t, r, "case.after")
}

// engineStatus is the part of status --json the engine cases read.
type engineStatus struct {
	Compliant bool `json:"compliant"`
	Placement *struct {
		ThreadsOnReserved []struct {
			Unit    string `json:"unit"`
			Threads int    `json:"threads"`
			CPUs    string `json:"cpus"`
		} `json:"threads_on_reserved"`
		Isolation *struct {
			State   string `json:"state"`
			Escapes []struct {
				Unit   string `json:"unit"`
				Reason string `json:"reason"`
			} `json:"escapes"`
		} `json:"isolation"`
	} `json:"placement"`
}

func parseEngineStatus(t *testing.T, r Report, block string) engineStatus {
	t.Helper()
	var d engineStatus
	if err := json.Unmarshal([]byte(r.Text(block)), &d); err != nil || d.Placement == nil || d.Placement.Isolation == nil {
		t.Fatalf("%s: not status JSON with a placement and an isolation (%v):\n%s", block, err, r.Text(block))
	}
	return d
}

// suricataThreads returns the threads of a suricata_wait record (prefix
// case.recipe or case.auto): name -> CPU list, workers (W#NN) apart.
func suricataThreads(r Report, prefix string) (workers, others map[string]string) {
	workers, others = map[string]string{}, map[string]string{}
	for k, v := range r.Values {
		tid, ok := strings.CutPrefix(k, prefix+".thread.")
		if !ok {
			continue
		}
		comm, cpus, _ := strings.Cut(v, "|")
		if strings.HasPrefix(comm, "W#") {
			workers[comm+"["+tid+"]"] = cpus
		} else {
			others[comm+"["+tid+"]"] = cpus
		}
	}
	return workers, others
}

func sortedThreads(m map[string]string) string {
	var l []string
	for k, v := range m {
		l = append(l, k+" "+v)
	}
	sort.Strings(l)
	return strings.Join(l, ", ")
}

// wantSuricataRuns checks a suricata_wait record: Suricata ran in the DPI
// service with its workers and the plan's environment, on cgroup v2 in a
// cgroup on 4-5, and returns its threads' CPUs.
func wantSuricataRuns(t *testing.T, r Report, p string, v1 bool) (workers, others map[string]string) {
	t.Helper()
	if v := r.Get(p + ".wait_gave_up"); v != "" {
		t.Errorf("%s: no stable set of Suricata workers: %s\n%s", p, v, r.Text(p+"-dpi-journal"))
	}
	wantEq(t, r, p+".state", "active")
	wantEq(t, r, p+".main_comm", "Suricata-Main")
	wantEq(t, r, p+".env.RANSOMEYE_CPUS", "4-5")
	wantEq(t, r, p+".env.RANSOMEYE_CPU_COUNT", "2")
	if !v1 {
		wantEq(t, r, p+".cgroup_cpus", "4-5")
	}
	workers, others = suricataThreads(r, p)
	t.Logf("%s: Suricata's workers after %s s: %s; its other threads: %s", p, r.Get(p+".waited_s"), sortedThreads(workers), sortedThreads(others))
	return workers, others
}

// wantWithin fails for each thread allowed outside the DPI CPUs 4-5.
func wantWithin(t *testing.T, what string, threads map[string]string) {
	t.Helper()
	for name, cpus := range threads {
		if !within(cpus, 4, 5) {
			t.Errorf("%s: thread %s may run on %s, outside the DPI CPUs 4-5", what, name, cpus)
		}
	}
}

// setaffinityRefused matches Suricata's warning (on its standard output,
// so in the unit's journal) when the kernel refuses a thread's CPUs.
var setaffinityRefused = regexp.MustCompile(`sched_setaffinity failed \(-1\): Invalid argument`)

// checkSuricata checks cases 30 (cgroup v2) and 31 (v1). The recipe: one
// worker per DPI CPU (RANSOMEYE_CPU_COUNT), each pinned to its own DPI CPU,
// no thread outside 4-5, no affinity refused, and status with no escaping
// thread of the DPI service (on v1 the isolation is degraded by the
// platform, never by the DPI service). The wrong way (threads: auto and
// the default CPU sets): a worker per online CPU (8), pinned CPU by CPU
// over all of them; on v2 the kernel refuses every CPU outside the
// cgroup's 4-5 (EINVAL, logged), nothing escapes and status has nothing to
// report; on v1 nothing refuses them: the workers run on the training CPUs
// and status names ransomeye-dpi.service's escaping threads.
func checkSuricata(t *testing.T, r Report, v1 bool) {
	wantMatch(t, "suricata -V", r.Get("case.suricata_version"), `version 7\.`)
	wantEq(t, r, "case.suricata_service", "masked")
	wantMatch(t, "the include the recipe's script wrote", r.Text("case-recipe-include"), `threads: 2\n`)
	workers, others := wantSuricataRuns(t, r, "case.recipe", v1)
	wantWithin(t, "the recipe", workers)
	wantWithin(t, "the recipe", others)
	if len(workers) != 2 {
		t.Errorf("the recipe: %d workers, want RANSOMEYE_CPU_COUNT (2): %s", len(workers), sortedThreads(workers))
	}
	seen := map[string]bool{}
	for name, cpus := range workers {
		if cpus != "4" && cpus != "5" || seen[cpus] {
			t.Errorf("the recipe: worker %s on %q, want one worker on each DPI CPU (4, 5)", name, cpus)
		}
		seen[cpus] = true
	}
	if j := r.Text("case.recipe-dpi-journal"); setaffinityRefused.MatchString(j) {
		t.Errorf("Suricata with the recipe asked for CPUs it may not use:\n%s", j)
	}
	st := parseEngineStatus(t, r, "case.recipe-status-json")
	for _, e := range st.Placement.Isolation.Escapes {
		if e.Unit == "ransomeye-dpi.service" {
			t.Errorf("status with the recipe's Suricata names the DPI service: %s", e.Reason)
		}
	}
	if !v1 {
		if b := r.Blocks["case.recipe-status"]; b.RC != 0 {
			t.Errorf("status with the recipe's Suricata: exit %d, want 0:\n%s", b.RC, b.Text)
		}
		if !st.Compliant || st.Placement.Isolation.State != "full" || len(st.Placement.ThreadsOnReserved) != 0 {
			t.Errorf("status --json with the recipe's Suricata: compliant %v, isolation %s, threads on reserved CPUs %+v",
				st.Compliant, st.Placement.Isolation.State, st.Placement.ThreadsOnReserved)
		}
	}

	// The wrong way.
	wantEq(t, r, "case.auto_restart_rc", "0")
	auto, autoOthers := wantSuricataRuns(t, r, "case.auto", v1)
	if len(auto) != 8 {
		t.Errorf("threads: auto: %d workers, want 8 (one per online CPU, not per DPI CPU): %s", len(auto), sortedThreads(auto))
	}
	st = parseEngineStatus(t, r, "case.auto-status-json")
	if !v1 {
		wantWithin(t, "threads: auto on cgroup v2", auto)
		wantWithin(t, "threads: auto on cgroup v2", autoOthers)
		if !setaffinityRefused.MatchString(r.Text("case.auto-dpi-journal")) {
			t.Errorf("Suricata with its default CPU sets logged no refused affinity:\n%s", r.Text("case.auto-dpi-journal"))
		}
		if st.Placement.Isolation.State != "full" || len(st.Placement.ThreadsOnReserved) != 0 {
			t.Errorf("status --json with Suricata's defaults on cgroup v2: isolation %s, threads on reserved CPUs %+v (the cgroup should hold them)",
				st.Placement.Isolation.State, st.Placement.ThreadsOnReserved)
		}
		t.Logf("threads: auto and the default CPU sets: %d workers on the 2 DPI CPUs; status: compliant %v, isolation %s (nothing escapes AllowedCPUs=)",
			len(auto), st.Compliant, st.Placement.Isolation.State)
		return
	}
	training := 0
	for _, cpus := range auto {
		if c, err := ParseCPUList(cpus); err == nil && len(c) == 1 && c[0] >= 6 {
			training++
		}
	}
	if training == 0 {
		t.Errorf("threads: auto on cgroup v1: no worker pinned to a training CPU (6, 7): %s", sortedThreads(auto))
	}
	escape := ""
	for _, e := range st.Placement.Isolation.Escapes {
		if e.Unit == "ransomeye-dpi.service" {
			escape = e.Reason
		}
	}
	if st.Placement.Isolation.State != "degraded" || !strings.Contains(escape, "6-7") {
		t.Errorf("status --json with Suricata's defaults on cgroup v1: isolation %s, the DPI service's escape %q, want it named with CPUs 6-7:\n%s",
			st.Placement.Isolation.State, escape, r.Text("case.auto-status"))
	}
	wantMatch(t, "status with Suricata's defaults on cgroup v1", r.Text("case.auto-status"), `isolation escape\s+ransomeye-dpi\.service: \d+ of its thread\(s\) may run on 6-7 outside its plan`)
	t.Logf("threads: auto and the default CPU sets on cgroup v1: %d workers, %d on a training CPU; status: %s", len(auto), training, escape)
}
