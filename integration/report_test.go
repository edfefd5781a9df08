package integration

import "testing"

func TestParseReport(t *testing.T) {
	raw := "noise before\r\n@@report-begin\r\ncase=01_healthy\r\nunit.ransomeye-core.service.MainPID=412\r\n" +
		"@@begin status\r\nswap: ok\r\n  line with = sign\r\n@@end status rc=0\r\n" +
		"@@begin failed-units\r\n@@end failed-units rc=3\r\ncase=later wins\r\n@@report-end\r\nafter=ignored\r\n"
	r, err := ParseReport([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Complete {
		t.Error("Complete = false, want true")
	}
	if got := r.Get("case"); got != "later wins" {
		t.Errorf("case = %q", got)
	}
	if got := r.Unit("ransomeye-core.service", "MainPID"); got != "412" {
		t.Errorf("MainPID = %q", got)
	}
	if n, ok := r.Int("unit.ransomeye-core.service.MainPID"); !ok || n != 412 {
		t.Errorf("Int = %d, %v", n, ok)
	}
	if b := r.Blocks["status"]; b.Text != "swap: ok\n  line with = sign" || b.RC != 0 {
		t.Errorf("status block = %+v", b)
	}
	if b := r.Blocks["failed-units"]; b.Text != "" || b.RC != 3 {
		t.Errorf("failed-units block = %+v", b)
	}
	if _, ok := r.Values["after"]; ok {
		t.Error("a line after @@report-end was parsed")
	}
}

func TestParseReportIncomplete(t *testing.T) {
	if _, err := ParseReport([]byte("[  OK  ] Started foo\n")); err == nil {
		t.Error("no begin marker: want an error")
	}
	r, err := ParseReport([]byte("@@report-begin\na=1\n@@begin status\npartial"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Complete {
		t.Error("Complete = true for a cut-off report")
	}
	if b := r.Blocks["status"]; b.RC != -1 || b.Text != "partial" {
		t.Errorf("cut-off block = %+v", b)
	}
	if _, err := ParseReport([]byte("@@report-begin\n@@begin x\n@@end x rc=zz\n")); err == nil {
		t.Error("bad rc: want an error")
	}
}
