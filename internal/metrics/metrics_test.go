package metrics

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

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

var update = flag.Bool("update", false, "rewrite testdata/*.prom from the current output")

// healthy is an 8-CPU machine with 4 GiB of RAM after a good boot.
func healthy() Snapshot {
	return Snapshot{
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
		Guarantees: []Guarantee{{"swap", true}, {"sysctl:vm.swappiness", true}, {"sysctl:vm.vfs_cache_pressure", true}, {"cpu-dropins", true}},
		Plan:       &Plan{Isolation: "strict", Mode: "allowed-cpus", Reserved: true},
		Placement: &Placement{IRQsOnReserved: 1, IRQsUnmovable: 8, IRQsMovePending: 2, ThreadsOnReserved: 3,
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
	s := Snapshot{
		Version:       "1.2.3-rc1",
		MarkerPresent: true,
		Disabled:      true,
		// Service names may hold a backslash (systemd escapes); quotes and
		// newlines are refused by config, but the writer must not break on them.
		ReservedCPUs: map[string]int{`a\x2db.service`: 1, "q\"n\n.service": 3},
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
	if got := find(t, all, "ransomeye_tuner_reserved_cpus", map[string]string{"service": `a\x2db.service`}); got != 1 {
		t.Errorf("reserved_cpus for the escaped name = %v, want 1", got)
	}
	if got := find(t, all, "ransomeye_tuner_reserved_cpus", map[string]string{"service": "q\"n\n.service"}); got != 3 {
		t.Errorf("reserved_cpus for the quoted name = %v, want 3", got)
	}
	if got := find(t, all, "ransomeye_tuner_last_run_timestamp_seconds", nil); got != 0 {
		t.Errorf("last_run_timestamp_seconds for a zero time = %v, want 0", got)
	}
	for _, x := range all {
		if x.name == "ransomeye_tuner_cpu_plan_info" || x.name == "ransomeye_tuner_guarantee_ok" {
			t.Errorf("disabled: a series %s%v, but nothing was measured", x.name, x.labels)
		}
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
	cases := map[string]Snapshot{
		"healthy": healthy(),
		"failed": {
			Version:         "0.1.0",
			TargetSwapBytes: 16 << 30,
			MarkerPresent:   true,
			CoreGated:       true,
			PlantedMarkers:  1,
			Guarantees:      []Guarantee{{"swap", false}, {"sysctl:vm.swappiness", false}, {"sysctl:vm.vfs_cache_pressure", true}},
			Plan:            &Plan{Isolation: "auto", Mode: "none"},
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

func TestWrite(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	const path = "/var/lib/prometheus/node-exporter/ransomeye_tuner.prom"
	dir := root.Path(filepath.Dir(path))

	// No directory: skipped, no error, nothing created.
	ok, err := Write(root, path, healthy())
	if err != nil || ok {
		t.Fatalf("Write without the directory = %v, %v; want false, nil", ok, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("Write created the directory %q", dir)
	}

	// Metrics off.
	if ok, err := Write(root, "", healthy()); ok || err != nil {
		t.Fatalf("Write with an empty path = %v, %v; want false, nil", ok, err)
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// An old file of ours is replaced, not appended to.
	if err := os.WriteFile(root.Path(path), []byte(header+"stale\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok, err = Write(root, path, healthy())
	if err != nil || !ok {
		t.Fatalf("Write = %v, %v; want true, nil", ok, err)
	}
	got, err := os.ReadFile(root.Path(path))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, Render(healthy())) {
		t.Errorf("file holds %q, want the rendered snapshot", got)
	}
	st, err := os.Stat(root.Path(path))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the metrics file (a temporary file was left)", names)
	}
}

func TestWriteErrors(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	// The "directory" is a regular file.
	if err := os.WriteFile(root.Path("/notadir"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(root, "/notadir/x.prom", healthy()); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Write under a regular file: err = %v, want one saying it is not a directory", err)
	}
	if _, err := Write(root, "relative.prom", healthy()); err == nil || !strings.Contains(err.Error(), "TextfilePath") {
		t.Errorf("Write with a relative path: err = %v, want one naming the setting", err)
	}
	// The target is a directory: rename fails, and the temporary file is gone.
	if err := os.MkdirAll(root.Path("/d/x.prom/inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(root, "/d/x.prom", healthy()); err == nil {
		t.Errorf("Write over a non-empty directory succeeded")
	}
	entries, _ := os.ReadDir(root.Path("/d"))
	if len(entries) != 1 {
		t.Errorf("a failed Write left files behind: %d entries in /d", len(entries))
	}
}

// TestWriteRefusesFileItDidNotWrite: Write at a path holding a file it did
// not write (here /etc/passwd) leaves the file untouched and returns an
// error. Root never overwrites a file the tool did not create; renaming
// its file over whatever was at that name, Write replaced such a file as
// root, by activate, status --write-metrics and the metrics timer every
// minute. (/etc/passwd is refused for its name already;
// TestWriteRefusesForeignProm covers a .prom file Write did not write.)
func TestWriteRefusesFileItDidNotWrite(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	if err := os.MkdirAll(root.Path("/etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	const foreign = "root:x:0:0:root:/root:/bin/bash\n"
	if err := os.WriteFile(root.Path("/etc/passwd"), []byte(foreign), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Write(root, "/etc/passwd", healthy())
	b, _ := os.ReadFile(root.Path("/etc/passwd"))
	if string(b) != foreign {
		t.Errorf("Write replaced a file the tool did not write (err %v); it now starts %q", err, string(b[:min(len(b), 60)]))
	}
	if err == nil {
		t.Error("Write gave no error for a file at TextfilePath= that it did not write")
	}
}

// TestWriteRefusesForeignProm: another exporter's .prom at TextfilePath=
// (a name that passes the suffix check) is left as it is, with an error
// naming the file and the remedy; a file Write wrote is replaced.
func TestWriteRefusesForeignProm(t *testing.T) {
	root := hostroot.Root(t.TempDir())
	const dir = "/var/lib/prometheus/node-exporter"
	if err := os.MkdirAll(root.Path(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	const foreign = "# HELP node_custom_thing Another exporter's metric.\nnode_custom_thing 1\n"
	for _, content := range []string{foreign, "", "# HELP ransomeye_tuner_build_infoX x\n"} {
		p := dir + "/other.prom"
		if err := os.WriteFile(root.Path(p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		ok, err := Write(root, p, healthy())
		if b, _ := os.ReadFile(root.Path(p)); ok || string(b) != content {
			t.Errorf("%q: Write replaced it (ok %v, err %v)", content, ok, err)
		}
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "TextfilePath=") {
			t.Errorf("%q: err %v, want one naming %s and the remedy", content, err, p)
		}
	}
	// A symbolic link at the name is not followed, nor replaced.
	p := dir + "/link.prom"
	if err := os.Symlink("other.prom", root.Path(p)); err != nil {
		t.Fatal(err)
	}
	if ok, err := Write(root, p, healthy()); ok || err == nil {
		t.Errorf("Write over a symbolic link = %v, %v; want an error", ok, err)
	}
	// Ours (a previous run's) is replaced.
	p = dir + "/ransomeye_tuner.prom"
	if err := os.WriteFile(root.Path(p), Render(Snapshot{Version: "0.0.1"}), 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, err := Write(root, p, healthy()); !ok || err != nil {
		t.Fatalf("Write over its own file = %v, %v", ok, err)
	}
	if b, _ := os.ReadFile(root.Path(p)); !bytes.Equal(b, Render(healthy())) {
		t.Errorf("its own file was not replaced")
	}
	// A name not ending in ".prom" is refused before anything is read.
	if _, err := Write(root, dir+"/x.txt", healthy()); err == nil || !strings.Contains(err.Error(), ".prom") {
		t.Errorf("Write to x.txt: err %v, want one naming .prom", err)
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

// TestIsolationDegraded: the gauge is 1 for a degraded isolation, 0 for a
// full one, and has no series without a reservation (nil placement).
func TestIsolationDegraded(t *testing.T) {
	for _, c := range []struct {
		p    *Placement
		want []float64
	}{{nil, nil}, {&Placement{}, []float64{0}}, {&Placement{IsolationDegraded: true}, []float64{1}}} {
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
