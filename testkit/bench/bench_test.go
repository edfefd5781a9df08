package bench

import (
	"errors"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name                    string
		in                      []time.Duration
		median, q1, q3, min, mx time.Duration
	}{
		{"odd, unsorted", ms(5, 1, 3), 3 * time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond, time.Millisecond, 5 * time.Millisecond},
		{"even: median between the middle two", ms(4, 1, 2, 3), 2500 * time.Microsecond, 1750 * time.Microsecond, 3250 * time.Microsecond, time.Millisecond, 4 * time.Millisecond},
		{"one sample", ms(7), 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{"outlier does not move the median", ms(10, 10, 10, 10, 1000), 10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond, time.Second},
	}
	for _, tc := range tests {
		s := Summarize(tc.in)
		if s.N != len(tc.in) || s.Median != tc.median || s.Q1 != tc.q1 || s.Q3 != tc.q3 || s.Min != tc.min || s.Max != tc.mx {
			t.Errorf("%s: got %+v", tc.name, s)
		}
	}
	if s := Summarize(nil); s != (Stats{}) {
		t.Errorf("empty: got %+v, want zero", s)
	}
	in := ms(3, 1, 2)
	Summarize(in)
	if !reflect.DeepEqual(in, ms(3, 1, 2)) {
		t.Errorf("Summarize reordered its input: %v", in)
	}
}

func TestRatio(t *testing.T) {
	a, b := Summarize(ms(30)), Summarize(ms(20))
	if r := Ratio(a, b); r != 1.5 {
		t.Errorf("Ratio = %v, want 1.5", r)
	}
	if r := Ratio(a, Stats{}); r != 0 {
		t.Errorf("Ratio against no samples = %v, want 0", r)
	}
}

func TestAlternateOrder(t *testing.T) {
	var order []string
	n := 0
	a := func() (time.Duration, error) { order = append(order, "A"); n++; return time.Duration(n), nil }
	b := func() (time.Duration, error) { order = append(order, "B"); n++; return time.Duration(n), nil }
	sa, sb, err := Alternate(4, 1, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ""); got != "AB"+"AB"+"BA"+"AB"+"BA" {
		t.Errorf("order %s, want AB (warm-up) then AB BA AB BA", got)
	}
	// Each side keeps its own samples (the counter values it returned).
	if !reflect.DeepEqual(sa, []time.Duration{3, 6, 7, 10}) || !reflect.DeepEqual(sb, []time.Duration{4, 5, 8, 9}) {
		t.Errorf("samples A %v B %v: the sides were mixed up", sa, sb)
	}
}

func TestAlternateError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	a := func() (time.Duration, error) { calls++; return time.Millisecond, nil }
	b := func() (time.Duration, error) {
		calls++
		if calls > 2 { // run 2 starts with B: the third call
			return 0, boom
		}
		return time.Millisecond, nil
	}
	_, _, err := Alternate(5, 0, a, b)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "run 2 of B") {
		t.Errorf("err = %v, want boom at run 2 of B", err)
	}
}

func TestRun(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("skipped: no sh")
	}
	r, err := Run(exec.Command(sh, "-c", "echo out; echo err >&2"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Wall <= 0 {
		t.Errorf("wall %v: want > 0", r.Wall)
	}
	if !strings.Contains(string(r.Output), "out") || !strings.Contains(string(r.Output), "err") {
		t.Errorf("output %q lacks stdout or stderr", r.Output)
	}
	_, err = Run(exec.Command(sh, "-c", "echo why >&2; exit 3"))
	if err == nil || !strings.Contains(err.Error(), "why") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("failing command: err = %v, want the exit status and output", err)
	}
}

func TestQuote(t *testing.T) {
	got := Quote([]string{"env", "RANSOMEYE_TUNER_ROOT=/tmp/x", "a b", "it's", "plain", ""})
	want := `env RANSOMEYE_TUNER_ROOT=/tmp/x 'a b' 'it'\''s' plain ''`
	if got != want {
		t.Errorf("Quote = %s, want %s", got, want)
	}
}

func TestMillis(t *testing.T) {
	for d, want := range map[time.Duration]string{
		1234 * time.Microsecond:  "1.23 ms",
		12345 * time.Microsecond: "12.3 ms",
		1234 * time.Millisecond:  "1234 ms",
	} {
		if got := Millis(d); got != want {
			t.Errorf("Millis(%v) = %q, want %q", d, got, want)
		}
	}
}
