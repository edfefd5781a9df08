package report

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/check"
	"github.com/ransomeye/ransomeye-tuner/internal/version"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// snapshot is the state a test gives the metrics, in numbers; report
// makes the Report that holds them.
type snapshot struct {
	Version                                               string
	TargetSwapBytes, ActiveSwapBytes, SwapfileActiveBytes int64
	SwapNotMeasured, Compliant, MarkerPresent, Disabled   bool
	CoreGated                                             bool
	ReservedCPUs                                          map[string]int
	Guarantees                                            []guarantee
	PlantedMarkers                                        int
	// ConfigWarnings counts the configuration's warnings (not read when
	// Disabled).
	ConfigWarnings int
	Plan           *planInfo
	Placement      *placementCounts
	LastRun        time.Time
	Duration       time.Duration
}

type guarantee struct {
	Name string
	OK   bool
}

type planInfo struct {
	Isolation, Mode string
	Reserved        bool
}

type placementCounts struct {
	IRQsOnReserved, IRQsUnmovable, IRQsMovePending, ThreadsOnReserved int
	ServiceCPUsOutsidePlan                                            map[string]int
	IsolationDegraded                                                 bool
}

// report is the Report and Run that hold s.
func (s snapshot) report() (Report, Run) {
	var r Report
	d := &r.Doc
	gated := s.CoreGated
	d.Compliant, d.CoreGated, d.Marker.Present = s.Compliant, &gated, s.MarkerPresent
	if s.Disabled {
		d.State = check.StateDisabled
	}
	for i := 0; i < s.PlantedMarkers; i++ {
		d.Marker.Planted = append(d.Marker.Planted, "planted")
	}
	for _, g := range s.Guarantees {
		d.Guarantees = append(d.Guarantees, check.Check{Name: g.Name, OK: g.OK})
	}
	if !s.Disabled {
		d.Config = &Config{Valid: true, Warnings: make([]Warning, s.ConfigWarnings)}
	}
	if !s.SwapNotMeasured {
		d.Swap = struct{}{}
		r.Swap.Target, r.Swap.Active, r.Swap.Provided = s.TargetSwapBytes, s.ActiveSwapBytes, s.SwapfileActiveBytes
		r.Swap.TargetKnown = true
	}
	if p := s.Plan; p != nil {
		d.CPU = &CPU{Isolation: p.Isolation, Mode: p.Mode, Reserved: p.Reserved, Sets: map[string]Set{}}
		for unit, n := range s.ReservedCPUs {
			// The role is named after the unit: "ransomeye-dpi.service" is dpi.
			role := strings.TrimSuffix(strings.TrimPrefix(unit, "ransomeye-"), ".service")
			d.CPU.Sets[role] = Set{Unit: unit, Count: n}
		}
	}
	if c := s.Placement; c != nil {
		pl := &check.Placement{Isolation: &check.Isolation{State: check.IsolationFull}}
		if c.IsolationDegraded {
			pl.Isolation.State = check.IsolationDegraded
		}
		pl.IRQsOnReserved = make([]check.IRQEffect, c.IRQsOnReserved)
		pl.IRQsUnmovable = make([]check.IRQEffect, c.IRQsUnmovable)
		pl.IRQsMovePending = make([]check.IRQEffect, c.IRQsMovePending)
		pl.ThreadsOnReserved = []check.UnitThreads{{Threads: c.ThreadsOnReserved}}
		for unit, n := range c.ServiceCPUsOutsidePlan {
			escapes := ""
			if n > 0 {
				escapes = fmt.Sprintf("0-%d", n-1)
			}
			pl.Services = append(pl.Services, check.ServiceEffect{Unit: unit, Effective: "0", Escapes: escapes})
		}
		d.Placement = pl
	}
	return r, Run{Start: s.LastRun, Duration: s.Duration}
}

// Render is the metrics text of s.
func Render(s snapshot) []byte {
	defer func(v string) { version.Version = v }(version.Version)
	version.Version = s.Version
	r, run := s.report()
	return r.Metrics(run)
}

// healthy is an 8-CPU machine with 4 GiB of RAM after a good boot.
func healthy() snapshot {
	return snapshot{
		Version:             "0.1.0",
		TargetSwapBytes:     16 << 30,
		ActiveSwapBytes:     18 << 30,
		SwapfileActiveBytes: 16 << 30,
		Compliant:           true,
		ReservedCPUs: map[string]int{
			"ransomeye-training.service": 2,
			"ransomeye-core.service":     4,
			"ransomeye-dpi.service":      2,
		},
		Guarantees: []guarantee{{"swap", true}, {"sysctl:vm.swappiness", true}, {"sysctl:vm.vfs_cache_pressure", true}, {"cpu-dropins", true}},
		Plan:       &planInfo{Isolation: "strict", Mode: "allowed-cpus", Reserved: true},
		Placement: &placementCounts{IRQsOnReserved: 1, IRQsUnmovable: 8, IRQsMovePending: 2, ThreadsOnReserved: 3,
			ServiceCPUsOutsidePlan: map[string]int{"ransomeye-dpi.service": 1, "ransomeye-core.service": 0},
			IsolationDegraded:      true},
		LastRun:  time.Unix(1764176400, 250_000_000),
		Duration: 4500 * time.Microsecond,
	}
}

// series is one parsed sample line.
type series struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// parse is a small, strict reader of the text exposition format, as
// node_exporter's textfile collector and promtool check it: every family has
// exactly one HELP and one TYPE line before its samples, families are not
// split, names and label names are valid, label values are properly escaped,
// values parse, no series appears twice, and the text ends with a newline.
func parse(text string) ([]series, error) {
	if text == "" || !strings.HasSuffix(text, "\n") {
		return nil, fmt.Errorf("text does not end with a newline")
	}
	var out []series
	help := map[string]bool{}
	typ := map[string]string{}
	done := map[string]bool{} // families whose samples are over
	seen := map[string]bool{}
	current := ""
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		n := i + 1
		if strings.HasPrefix(line, "#") {
			f := strings.SplitN(line, " ", 4)
			if len(f) < 3 || (f[1] != "HELP" && f[1] != "TYPE") {
				return nil, fmt.Errorf("line %d: comment is neither HELP nor TYPE: %q", n, line)
			}
			name := f[2]
			if !metricName.MatchString(name) {
				return nil, fmt.Errorf("line %d: bad metric name %q", n, name)
			}
			if done[name] || (current != "" && current != name) {
				done[current] = true
			}
			if done[name] {
				return nil, fmt.Errorf("line %d: family %s split or repeated", n, name)
			}
			current = name
			switch f[1] {
			case "HELP":
				if help[name] || len(f) < 4 || f[3] == "" {
					return nil, fmt.Errorf("line %d: HELP for %s repeated or empty", n, name)
				}
				if err := checkHelpEscapes(f[3]); err != nil {
					return nil, fmt.Errorf("line %d: %w", n, err)
				}
				help[name] = true
			case "TYPE":
				if typ[name] != "" || len(f) != 4 {
					return nil, fmt.Errorf("line %d: TYPE for %s repeated or malformed", n, name)
				}
				switch f[3] {
				case "gauge", "counter", "untyped":
				default:
					return nil, fmt.Errorf("line %d: type %q is not a simple type", n, f[3])
				}
				typ[name] = f[3]
			}
			continue
		}
		s, key, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if s.name != current || !help[s.name] || typ[s.name] == "" {
			return nil, fmt.Errorf("line %d: sample of %s without its own HELP and TYPE just before", n, s.name)
		}
		if seen[key] {
			return nil, fmt.Errorf("line %d: series %s repeated", n, key)
		}
		seen[key] = true
		out = append(out, s)
	}
	return out, nil
}

// checkHelpEscapes accepts only \\ and \n after a backslash in HELP text.
func checkHelpEscapes(h string) error {
	for i := 0; i < len(h); i++ {
		if h[i] != '\\' {
			continue
		}
		if i+1 >= len(h) || (h[i+1] != '\\' && h[i+1] != 'n') {
			return fmt.Errorf("bad escape in HELP %q", h)
		}
		i++
	}
	return nil
}

func parseSample(line string) (series, string, error) {
	s := series{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return s, "", fmt.Errorf("no value in %q", line)
	}
	s.name = line[:i]
	if !metricName.MatchString(s.name) {
		return s, "", fmt.Errorf("bad metric name %q", s.name)
	}
	rest := line[i:]
	key := s.name
	if rest[0] == '{' {
		rest = rest[1:]
		var names []string
		for {
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.Index(rest, `="`)
			if eq <= 0 {
				return s, "", fmt.Errorf("bad label in %q", line)
			}
			ln := rest[:eq]
			if !labelName.MatchString(ln) || strings.HasPrefix(ln, "__") {
				return s, "", fmt.Errorf("bad label name %q", ln)
			}
			rest = rest[eq+2:]
			var v strings.Builder
			closed := false
			for j := 0; j < len(rest); j++ {
				c := rest[j]
				if c == '\\' {
					if j+1 >= len(rest) {
						return s, "", fmt.Errorf("dangling backslash in %q", line)
					}
					switch rest[j+1] {
					case '\\':
						v.WriteByte('\\')
					case '"':
						v.WriteByte('"')
					case 'n':
						v.WriteByte('\n')
					default:
						return s, "", fmt.Errorf("bad escape \\%c in %q", rest[j+1], line)
					}
					j++
					continue
				}
				if c == '"' {
					rest = rest[j+1:]
					closed = true
					break
				}
				if c == '\n' {
					return s, "", fmt.Errorf("raw newline in label value")
				}
				v.WriteByte(c)
			}
			if !closed {
				return s, "", fmt.Errorf("unterminated label value in %q", line)
			}
			if _, dup := s.labels[ln]; dup {
				return s, "", fmt.Errorf("label %s repeated", ln)
			}
			s.labels[ln] = v.String()
			names = append(names, ln+"="+strconv.Quote(v.String()))
			if strings.HasPrefix(rest, ",") {
				rest = rest[1:]
			} else if !strings.HasPrefix(rest, "}") {
				return s, "", fmt.Errorf("expected , or } in %q", line)
			}
		}
		key += "{" + strings.Join(names, ",") + "}"
	}
	if !strings.HasPrefix(rest, " ") {
		return s, "", fmt.Errorf("no space before the value in %q", line)
	}
	f := strings.Fields(rest)
	if len(f) != 1 {
		return s, "", fmt.Errorf("want exactly one value (no timestamps in textfiles) in %q", line)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return s, "", fmt.Errorf("value %q: %w", f[0], err)
	}
	s.value = v
	return s, key, nil
}

func find(t *testing.T, all []series, name string, labels map[string]string) float64 {
	t.Helper()
	for _, s := range all {
		if s.name != name || len(s.labels) != len(labels) {
			continue
		}
		match := true
		for k, v := range labels {
			if s.labels[k] != v {
				match = false
			}
		}
		if match {
			return s.value
		}
	}
	t.Fatalf("no series %s%v in the output", name, labels)
	return 0
}

func TestRenderParsesBack(t *testing.T) {
	s := healthy()
	all, err := parse(string(Render(s)))
	if err != nil {
		t.Fatalf("output is not valid exposition text: %v\n%s", err, Render(s))
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"ransomeye_tuner_swap_target_bytes", nil, float64(s.TargetSwapBytes)},
		{"ransomeye_tuner_swap_active_bytes", nil, float64(s.ActiveSwapBytes)},
		{"ransomeye_tuner_swapfile_active_bytes", nil, float64(s.SwapfileActiveBytes)},
		{"ransomeye_tuner_compliant", nil, 1},
		{"ransomeye_tuner_marker_present", nil, 0},
		{"ransomeye_tuner_disabled", nil, 0},
		{"ransomeye_tuner_reserved_cpus", map[string]string{"service": "ransomeye-core.service"}, 4},
		{"ransomeye_tuner_reserved_cpus", map[string]string{"service": "ransomeye-dpi.service"}, 2},
		{"ransomeye_tuner_reserved_cpus", map[string]string{"service": "ransomeye-training.service"}, 2},
		{"ransomeye_tuner_role_cpus", map[string]string{"role": "core", "service": "ransomeye-core.service"}, 4},
		{"ransomeye_tuner_role_cpus", map[string]string{"role": "dpi", "service": "ransomeye-dpi.service"}, 2},
		{"ransomeye_tuner_role_cpus", map[string]string{"role": "training", "service": "ransomeye-training.service"}, 2},
		{"ransomeye_tuner_build_info", map[string]string{"version": "0.1.0"}, 1},
		{"ransomeye_tuner_core_gated", nil, 0},
		{"ransomeye_tuner_planted_markers", nil, 0},
		{"ransomeye_tuner_guarantee_ok", map[string]string{"guarantee": "swap"}, 1},
		{"ransomeye_tuner_guarantee_ok", map[string]string{"guarantee": "sysctl:vm.swappiness"}, 1},
		{"ransomeye_tuner_cpu_plan_info", map[string]string{"isolation": "strict", "mode": "allowed-cpus", "reserved": "true"}, 1},
		{"ransomeye_tuner_last_run_timestamp_seconds", nil, 1764176400.25},
		{"ransomeye_tuner_last_run_duration_seconds", nil, 0.0045},
	}
	for _, c := range checks {
		if got := find(t, all, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, x := range all {
		if !strings.HasPrefix(x.name, Prefix) {
			t.Errorf("metric %s does not start with %s", x.name, Prefix)
		}
	}
}

func TestRenderFailedAndOddLabels(t *testing.T) {
	s := snapshot{
		Version:       "1.2.3-rc1",
		MarkerPresent: true,
		Disabled:      true,
	}
	all, err := parse(string(Render(s)))
	if err != nil {
		t.Fatalf("output is not valid exposition text: %v\n%s", err, Render(s))
	}
	if got := find(t, all, "ransomeye_tuner_compliant", nil); got != 0 {
		t.Errorf("compliant = %v, want 0", got)
	}
	if got := find(t, all, "ransomeye_tuner_marker_present", nil); got != 1 {
		t.Errorf("marker_present = %v, want 1", got)
	}
	if got := find(t, all, "ransomeye_tuner_disabled", nil); got != 1 {
		t.Errorf("disabled = %v, want 1", got)
	}
	if got := find(t, all, "ransomeye_tuner_last_run_timestamp_seconds", nil); got != 0 {
		t.Errorf("last_run_timestamp_seconds for a zero time = %v, want 0", got)
	}
	for _, x := range all {
		if x.name == "ransomeye_tuner_cpu_plan_info" || x.name == "ransomeye_tuner_guarantee_ok" {
			t.Errorf("disabled: a series %s%v, but nothing was measured", x.name, x.labels)
		}
	}
	// Service names may hold a backslash (systemd escapes); quotes and
	// newlines are refused by config, but the writer must not break on them.
	s = healthy()
	s.ReservedCPUs = map[string]int{`a\x2db.service`: 1, "q\"n\n.service": 3}
	if all, err = parse(string(Render(s))); err != nil {
		t.Fatalf("output is not valid exposition text: %v\n%s", err, Render(s))
	}
	if got := find(t, all, "ransomeye_tuner_reserved_cpus", map[string]string{"service": `a\x2db.service`}); got != 1 {
		t.Errorf("reserved_cpus for the escaped name = %v, want 1", got)
	}
	if got := find(t, all, "ransomeye_tuner_reserved_cpus", map[string]string{"service": "q\"n\n.service"}); got != 3 {
		t.Errorf("reserved_cpus for the quoted name = %v, want 3", got)
	}
}

// TestRoleCPUsReplacesReservedCPUs: every CPU set is a role_cpus series
// labelled with its role and service, the core's as well (its CPUs are not
// reserved, which the old name said); the deprecated reserved_cpus keeps the
// same values under its old labels for one release, and its HELP says what
// replaces it.
func TestRoleCPUsReplacesReservedCPUs(t *testing.T) {
	text := string(Render(healthy()))
	all, err := parse(text)
	if err != nil {
		t.Fatal(err)
	}
	roleSeries, oldSeries := map[string]float64{}, map[string]float64{}
	for _, x := range all {
		switch x.name {
		case Prefix + "role_cpus":
			if len(x.labels) != 2 || x.labels["role"] == "" {
				t.Errorf("role_cpus series %v: want the labels role and service", x.labels)
			}
			roleSeries[x.labels["service"]] = x.value
		case Prefix + "reserved_cpus":
			oldSeries[x.labels["service"]] = x.value
		}
	}
	if len(roleSeries) != 3 || fmt.Sprint(roleSeries) != fmt.Sprint(oldSeries) {
		t.Errorf("role_cpus %v, reserved_cpus %v: want the same three services and values", roleSeries, oldSeries)
	}
	if !strings.Contains(text, "# HELP ransomeye_tuner_reserved_cpus DEPRECATED, removed in the next release: use ransomeye_tuner_role_cpus") {
		t.Errorf("reserved_cpus' HELP does not say it is deprecated and what replaces it:\n%s", text)
	}
}

func TestRenderNoReservation(t *testing.T) {
	s := healthy()
	s.ReservedCPUs = nil
	text := string(Render(s))
	all, err := parse(text)
	if err != nil {
		t.Fatalf("output is not valid exposition text: %v\n%s", err, text)
	}
	for _, x := range all {
		if x.name == "ransomeye_tuner_reserved_cpus" {
			t.Errorf("a series of reserved_cpus without a reservation: %v", x)
		}
	}
	if !strings.Contains(text, "# TYPE ransomeye_tuner_reserved_cpus gauge\n") {
		t.Errorf("the family's TYPE line is missing without a reservation:\n%s", text)
	}
}

// TestParserRejects shows that the parser used above can fail.
func TestParserRejects(t *testing.T) {
	bad := map[string]string{
		"no newline":          "# HELP a_b x\n# TYPE a_b gauge\na_b 1",
		"sample without HELP": "# TYPE a_b gauge\na_b 1\n",
		"split family":        "# HELP a x\n# TYPE a gauge\na 1\n# HELP b x\n# TYPE b gauge\nb 1\na 2\n",
		"repeated series":     "# HELP a x\n# TYPE a gauge\na{l=\"1\"} 1\na{l=\"1\"} 2\n",
		"bad escape":          "# HELP a x\n# TYPE a gauge\na{l=\"\\t\"} 1\n",
		"bad value":           "# HELP a x\n# TYPE a gauge\na one\n",
		"timestamp":           "# HELP a x\n# TYPE a gauge\na 1 1700000000\n",
		"bad name":            "# HELP 1a x\n# TYPE 1a gauge\n1a 1\n",
		"unknown type":        "# HELP a x\n# TYPE a histogramm\na 1\n",
		"bad HELP escape":     "# HELP a x\\y\n# TYPE a gauge\na 1\n",
	}
	for name, text := range bad {
		if _, err := parse(text); err == nil {
			t.Errorf("%s: parser accepted %q", name, text)
		}
	}
}

func TestGolden(t *testing.T) {
	cases := map[string]snapshot{
		"healthy": healthy(),
		"failed": {
			Version:         "0.1.0",
			TargetSwapBytes: 16 << 30,
			MarkerPresent:   true,
			CoreGated:       true,
			PlantedMarkers:  1,
			ConfigWarnings:  2,
			Guarantees:      []guarantee{{"swap", false}, {"sysctl:vm.swappiness", false}, {"sysctl:vm.vfs_cache_pressure", true}},
			Plan:            &planInfo{Isolation: "auto", Mode: "none"},
			LastRun:         time.Unix(1764176400, 0),
			Duration:        2 * time.Second,
		},
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			golden := filepath.Join("testdata", name+".prom")
			got := Render(s)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run `go test ./internal/metrics -update` to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

func TestFormatValue(t *testing.T) {
	cases := map[float64]string{
		0: "0", 1: "1", 17179869184: "17179869184", 0.0045: "0.0045",
		1764176400.25: "1764176400.25", math.NaN(): "NaN", math.Inf(1): "+Inf",
	}
	for v, want := range cases {
		if got := formatValue(v); got != want {
			t.Errorf("formatValue(%v) = %q, want %q", v, got, want)
		}
		if _, err := strconv.ParseFloat(formatValue(v), 64); err != nil {
			t.Errorf("formatValue(%v) = %q does not parse back", v, formatValue(v))
		}
	}
}

// TestConfigWarningsCounted: the gauge counts the configuration's warnings,
// 0 when there are none, and has no sample when the configuration was not
// read (disabled), rather than a 0 that looks measured.
func TestConfigWarningsCounted(t *testing.T) {
	for _, c := range []struct {
		warnings int
		disabled bool
		want     []float64
	}{{0, false, []float64{0}}, {3, false, []float64{3}}, {0, true, nil}} {
		s := healthy()
		s.ConfigWarnings, s.Disabled = c.warnings, c.disabled
		got, err := parse(string(Render(s)))
		if err != nil {
			t.Fatal(err)
		}
		var vals []float64
		for _, g := range got {
			if g.name == Prefix+"config_warnings" {
				vals = append(vals, g.value)
			}
		}
		if fmt.Sprint(vals) != fmt.Sprint(c.want) {
			t.Errorf("%d warnings, disabled %t: config_warnings samples %v, want %v", c.warnings, c.disabled, vals, c.want)
		}
	}
}

// TestIsolationDegraded: the gauge is 1 for a degraded isolation, 0 for a
// full one, and has no series without a reservation (nil placement).
func TestIsolationDegraded(t *testing.T) {
	for _, c := range []struct {
		p    *placementCounts
		want []float64
	}{{nil, nil}, {&placementCounts{}, []float64{0}}, {&placementCounts{IsolationDegraded: true}, []float64{1}}} {
		s := healthy()
		s.Placement = c.p
		got, err := parse(string(Render(s)))
		if err != nil {
			t.Fatal(err)
		}
		var vals []float64
		for _, g := range got {
			if g.name == Prefix+"isolation_degraded" {
				vals = append(vals, g.value)
			}
		}
		if fmt.Sprint(vals) != fmt.Sprint(c.want) {
			t.Errorf("placement %+v: isolation_degraded samples %v, want %v", c.p, vals, c.want)
		}
	}
}

// TestMetricsNoVerdictWithoutRoot: when the run could not read what the
// gate decides on (not root's: core_gated absent from status --json), the
// verdict families have no sample, rather than a 0 that reads "compliant:
// no" or "not gated".
func TestMetricsNoVerdictWithoutRoot(t *testing.T) {
	var rep Report
	rep.Doc.State = check.StateUnknown
	text := string(rep.Metrics(Run{}))
	for _, name := range []string{"compliant", "core_gated"} {
		if strings.Contains(text, "\n"+Prefix+name+" ") {
			t.Errorf("%s has a sample without a verdict:\n%s", Prefix+name, text)
		}
		if !strings.Contains(text, "# TYPE "+Prefix+name+" gauge") {
			t.Errorf("%s is not declared", Prefix+name)
		}
	}
	gated := false
	rep.Doc.CoreGated = &gated
	if text := string(rep.Metrics(Run{})); !strings.Contains(text, "\n"+Prefix+"core_gated 0\n") {
		t.Errorf("core_gated known: no sample:\n%s", text)
	}
}

// TestEscapesAsTheTextFormatWants: HELP texts escape backslash and line
// feed, label values also the double quote; text that needs nothing comes
// back as it is.
func TestEscapesAsTheTextFormatWants(t *testing.T) {
	for _, c := range []struct{ in, help, label string }{
		{"plain text", "plain text", "plain text"},
		{"a\\b", `a\\b`, `a\\b`},
		{"line\nfeed", `line\nfeed`, `line\nfeed`},
		{`say "x"`, `say "x"`, `say \"x\"`},
		{"all \\ \" \n", `all \\ " \n`, `all \\ \" \n`},
	} {
		if got := escapeHelp(c.in); got != c.help {
			t.Errorf("escapeHelp(%q) = %q, want %q", c.in, got, c.help)
		}
		if got := escapeLabel(c.in); got != c.label {
			t.Errorf("escapeLabel(%q) = %q, want %q", c.in, got, c.label)
		}
	}
}

// memoryGauge is the value of the memory gauge name (without Prefix) that
// memoryFamilies gives for m.
func memoryGauge(t *testing.T, m *check.Memory, name string) (float64, bool) {
	t.Helper()
	for _, f := range memoryFamilies(m) {
		if f.name == Prefix+name && len(f.samples) == 1 {
			return f.samples[0].value, true
		}
	}
	return 0, false
}

// TestPressureAvailableZeroWithoutCgroupPressure: on cgroup v1 the kernel
// keeps PSI (/proc/pressure) but no service's pressure is read, so the
// core and DPI pressure alerts can never fire: pressure_available is 0
// there (the view's PressureAvailable, not the kernel's PSI), and the
// info alert says the pressure alerts are blind.
func TestPressureAvailableZeroWithoutCgroupPressure(t *testing.T) {
	m := &check.Memory{State: check.MemoryDegraded, Cause: check.CauseMemoryV1, PSI: true,
		CgroupV1: "what holds on cgroup v1: ...; no per-service pressure read", Services: []check.ServiceMemory{}}
	if v, ok := memoryGauge(t, m, "pressure_available"); !ok || v != 0 {
		t.Errorf("cgroup v1, no per-service pressure series: pressure_available %v (present %v), want 0", v, ok)
	}
	m = &check.Memory{State: check.MemoryHeld, PSI: true, PressureAvailable: true, Services: []check.ServiceMemory{}}
	if v, _ := memoryGauge(t, m, "pressure_available"); v != 1 {
		t.Errorf("every service's pressure read: pressure_available %v, want 1", v)
	}
}

// TestMemoryNotMadeIsDegradedInMetrics: a memory plan that could not be
// made writes no protection at all: memory_protection_degraded is 1, so
// the info alert that lists every way protection is missing fires.
func TestMemoryNotMadeIsDegradedInMetrics(t *testing.T) {
	m := &check.Memory{State: check.MemoryNotMade, Reason: "MemTotal is not known", Services: []check.ServiceMemory{}}
	if v, _ := memoryGauge(t, m, "memory_protection_degraded"); v != 1 {
		t.Errorf("memory plan not made (no protection written): memory_protection_degraded %v, want 1", v)
	}
	m = &check.Memory{State: check.MemoryOff, Services: []check.ServiceMemory{}}
	if v, _ := memoryGauge(t, m, "memory_protection_degraded"); v != 0 {
		t.Errorf("every [Memory] setting off: memory_protection_degraded %v, want 0", v)
	}
}
