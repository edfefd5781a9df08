package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
)

// parse applies the text of one file, named file, on top of the defaults.
// It is Load without the file system, for tests and fuzzing.
func parse(file, text string) (Config, []Problem, error) {
	cfg := Default()
	set := newAssignments()
	w, p := apply(&cfg, file, text, set)
	p = append(p, crossChecks(cfg, set, file)...)
	if len(p) > 0 {
		return cfg, w, newError(cfg, p, coreNames(text))
	}
	return cfg, w, nil
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		check   func(t *testing.T, c Config)
		wantErr string // substring of the error; "" means valid
		warns   int
	}{
		{name: "empty file gives defaults", text: "", check: func(t *testing.T, c Config) {
			if c.SwapPath != "/ransomeye/swap" || c.MinSize != 16*GiB || c.Isolation != IsolationStrict || c.Swappiness != 10 || c.VFSCachePressure != 50 {
				t.Errorf("defaults wrong: %+v", c)
			}
		}},
		{name: "swapfile path", text: "[Swap]\nPath=/swapfile\n", check: func(t *testing.T, c Config) {
			if c.SwapPath != "/swapfile" {
				t.Errorf("SwapPath = %q", c.SwapPath)
			}
		}},
		{name: "comments and spaces", text: "# c\n; c\n  [Swap]  \n  MinSize = 32G \n", check: func(t *testing.T, c Config) {
			if c.MinSize != 32*GiB {
				t.Errorf("MinSize = %d", c.MinSize)
			}
		}},
		{name: "later key wins", text: "[CPU]\nIsolation=off\nIsolation=services\n", check: func(t *testing.T, c Config) {
			if c.Isolation != IsolationServices {
				t.Errorf("Isolation = %q", c.Isolation)
			}
		}},
		{name: "empty value resets", text: "[Sysctl]\nSwappiness=60\nSwappiness=\n", check: func(t *testing.T, c Config) {
			if c.Swappiness != 10 {
				t.Errorf("Swappiness = %d", c.Swappiness)
			}
		}},
		{name: "continuation line", text: "[CPU]\nDPIInterface=\\\neth0\n", check: func(t *testing.T, c Config) {
			if c.DPIInterface != "eth0" {
				t.Errorf("DPIInterface = %q", c.DPIInterface)
			}
		}},
		{name: "channels auto", text: "[CPU]\nDPIChannels=auto\n", check: func(t *testing.T, c Config) {
			if c.DPIChannels != ChannelsAuto {
				t.Errorf("DPIChannels = %d", c.DPIChannels)
			}
		}},
		{name: "channels count", text: "[CPU]\nDPIChannels=4\n", check: func(t *testing.T, c Config) {
			if c.DPIChannels != 4 {
				t.Errorf("DPIChannels = %d", c.DPIChannels)
			}
		}},
		{name: "channels off by default and by reset", text: "[CPU]\nDPIChannels=auto\nDPIChannels=\n", check: func(t *testing.T, c Config) {
			if c.DPIChannels != ChannelsOff || Default().DPIChannels != ChannelsOff {
				t.Errorf("DPIChannels = %d, default %d", c.DPIChannels, Default().DPIChannels)
			}
		}},
		{name: "channels zero", text: "[CPU]\nDPIChannels=0\n", wantErr: `want "off", "auto" (one receive channel per DPI CPU) or a channel count from 1 to 4096`},
		{name: "channels word", text: "[CPU]\nDPIChannels=max\n", wantErr: `"max": want "off", "auto"`},
		{name: "metrics off", text: "[Metrics]\nTextfilePath=off\n", check: func(t *testing.T, c Config) {
			if c.MetricsPath != "" {
				t.Errorf("MetricsPath = %q", c.MetricsPath)
			}
		}},
		{name: "metrics path", text: "[Metrics]\nTextfilePath=/srv/m/t.prom\n", check: func(t *testing.T, c Config) {
			if c.MetricsPath != "/srv/m/t.prom" {
				t.Errorf("MetricsPath = %q", c.MetricsPath)
			}
		}},
		// Not a *.prom file: refused, naming the remedy (root replaces the
		// file every minute, so /etc/passwd must not be accepted).
		{name: "metrics over /etc/passwd", text: "[Metrics]\nTextfilePath=/etc/passwd\n", wantErr: "must name a *.prom file"},
		{name: "metrics named .prom only", text: "[Metrics]\nTextfilePath=/srv/.prom\n", wantErr: "set it to e.g. /var/lib/prometheus/node-exporter/ransomeye_tuner.prom"},
		{name: "metrics .prom directory", text: "[Metrics]\nTextfilePath=/srv/m.prom/x\n", wantErr: ".prom"},
		{name: "unknown key is a warning", text: "[Swap]\nColour=blue\n", warns: 1},
		{name: "unknown section is a warning", text: "[Colours]\nA=b\n", warns: 1},
		{name: "relative path", text: "[Swap]\nPath=swap\n", wantErr: "relative"},
		{name: "unclean path", text: "[Swap]\nPath=/a/../swap\n", wantErr: "not clean"},
		{name: "percent in service name", text: "[CPU]\nCoreService=core%i.service\n", wantErr: "does not allow"},
		{name: "service without suffix", text: "[CPU]\nCoreService=core\n", wantErr: "must end in"},
		{name: "bad isolation", text: "[CPU]\nIsolation=maximum\n", wantErr: "unknown mode"},
		{name: "huge size", text: "[Swap]\nMinSize=99999999T\n", wantErr: "larger than 64T"},
		{name: "negative size", text: "[Swap]\nMinSize=-1G\n", wantErr: "not a size"},
		{name: "tiny size", text: "[Swap]\nMinSize=4K\n", wantErr: "too small"},
		{name: "swappiness out of range", text: "[Sysctl]\nSwappiness=201\n", wantErr: "from 0 to 200"},
		{name: "no section", text: "Path=/x\n", wantErr: "outside any section"},
		{name: "no equals", text: "[Swap]\nPath\n", wantErr: "expected Key=Value"},
		{name: "bad header", text: "[Swap\n", wantErr: "malformed section"},
		{name: "interface with slash", text: "[CPU]\nDPIInterface=../eth0\n", wantErr: "not a network interface"},
		{name: "control character", text: "[Swap]\nPath=/a\x01b\n", wantErr: "control character"},
		{name: "swap path not UTF-8", text: "[Swap]\nPath=/data/\xffswap\n", wantErr: "not valid UTF-8"},
		{name: "swap path ending in a backslash", text: "[Swap]\nPath=/data/swap\\", wantErr: "ends in a backslash"},
		{name: "swap unit name over 255 bytes", text: "[Swap]\nPath=/" + strings.Repeat("x", 249) + "/swap\n", wantErr: "swap unit name of 259 bytes"},
		{name: "swap path escaping past 255 bytes", text: "[Swap]\nPath=/" + strings.Repeat("-", 70) + "\n", wantErr: "at most 255"},
		{name: "huge value", text: "[Swap]\nPath=/" + strings.Repeat("a", 5000) + "\n", wantErr: "bytes long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, w, err := parse("/etc/ransomeye/tuner.conf", tt.text)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), "/etc/ransomeye/tuner.conf:") {
					t.Errorf("error %q does not name the file and line", err)
				}
				var ce *Error
				if !errors.As(err, &ce) || len(ce.Problems) == 0 {
					t.Errorf("error is not a *config.Error with problems")
				}
			}
			if len(w) != tt.warns {
				t.Errorf("warnings = %v, want %d", w, tt.warns)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// TestDuplicateServices: two of CoreService=, DPIService= and
// TrainingService= naming one unit were accepted, and activate then failed
// at every boot with a remedy (daemon-reload) that could not help. Refused,
// naming both keys, their values, where they were set, and the remedy.
func TestDuplicateServices(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       []string // in the error; none: valid
		line       int
	}{
		{"dpi set to the default core", "[CPU]\nDPIService=ransomeye-core.service\n",
			[]string{"DPIService=ransomeye-core.service (f.conf:2) names the same unit as CoreService=ransomeye-core.service (the default)", "set DPIService= to that service's own unit name", "default ransomeye-dpi.service"}, 2},
		{"core and training set alike", "[CPU]\nCoreService=db.service\n# x\nTrainingService=db.service\n",
			[]string{"TrainingService=db.service (f.conf:4) names the same unit as CoreService=db.service (f.conf:2)"}, 4},
		{"core set last to the default dpi", "[CPU]\nCoreService=ransomeye-dpi.service\n",
			[]string{"CoreService=ransomeye-dpi.service (f.conf:2) names the same unit as DPIService=ransomeye-dpi.service (the default)"}, 2},
		{"training and dpi alike", "[CPU]\nTrainingService=t.service\nDPIService=t.service\n",
			[]string{"DPIService=t.service (f.conf:3) names the same unit as TrainingService=t.service (f.conf:2)"}, 3},
		{"two names swapped: valid", "[CPU]\nCoreService=ransomeye-dpi.service\nDPIService=ransomeye-core.service\n", nil, 0},
		{"duplicate reset to the default: valid", "[CPU]\nDPIService=ransomeye-core.service\nDPIService=\n", nil, 0},
		{"duplicate overridden later: valid", "[CPU]\nDPIService=ransomeye-core.service\nDPIService=capture.service\n", nil, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := parse("f.conf", c.text)
			if c.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("accepted (err %v)", err)
			}
			if len(ce.Problems) != 1 || ce.Problems[0].Line != c.line {
				t.Errorf("problems %v, want one on line %d", ce.Problems, c.line)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not say %q", err, w)
				}
			}
		})
	}
	t.Run("across a drop-in", func(t *testing.T) {
		root := hostroot.Root(t.TempDir())
		for p, s := range map[string]string{
			"/etc/ransomeye/tuner.conf":              "[CPU]\nDPIService=capture.service\n",
			"/etc/ransomeye/tuner.conf.d/50-db.conf": "[CPU]\nCoreService=capture.service\n",
		} {
			if err := os.MkdirAll(filepath.Dir(root.Path(p)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(root.Path(p), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, _, err := Load(root)
		want := "/etc/ransomeye/tuner.conf.d/50-db.conf:2: CoreService=capture.service (/etc/ransomeye/tuner.conf.d/50-db.conf:2) names the same unit as DPIService=capture.service (/etc/ransomeye/tuner.conf:2)"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Load: %v\nwant it to say %q", err, want)
		}
	})
}

func TestErrorLineNumbers(t *testing.T) {
	_, _, err := parse("f.conf", "[Swap]\n\n# x\nMinSize=abc\n")
	var ce *Error
	if !errors.As(err, &ce) || ce.Problems[0].Line != 4 {
		t.Fatalf("want a problem on line 4, got %v", err)
	}
}

func TestLoadDropInOrder(t *testing.T) {
	dir := t.TempDir()
	root := hostroot.Root(dir)
	write := func(p, s string) {
		t.Helper()
		full := root.Path(p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("/etc/ransomeye/tuner.conf", "[Swap]\nMinSize=20G\nPath=/a\n")
	write("/etc/ransomeye/tuner.conf.d/20-b.conf", "[Swap]\nPath=/b\n")
	write("/etc/ransomeye/tuner.conf.d/10-a.conf", "[Swap]\nPath=/c\nMinSize=24G\n")
	write("/etc/ransomeye/tuner.conf.d/30-ignored.txt", "[Swap]\nPath=/ignored\n")
	c, w, err := Load(root)
	if err != nil || len(w) != 1 || !strings.Contains(w[0].String(), "/etc/ransomeye/tuner.conf.d/30-ignored.txt: is not read: only files whose names end in .conf are") {
		t.Fatalf("Load: %v %v, want one warning naming the file that is not read", err, w)
	}
	if c.SwapPath != "/b" || c.MinSize != 24*GiB {
		t.Errorf("got Path=%q MinSize=%d, want /b and 24G (drop-ins in name order override the main file)", c.SwapPath, c.MinSize)
	}
	if len(c.Files) != 3 {
		t.Errorf("Files = %v", c.Files)
	}
}

func TestLoadNoConfig(t *testing.T) {
	c, w, err := Load(hostroot.Root(t.TempDir()))
	if err != nil || len(w) != 0 {
		t.Fatalf("Load without files: %v %v", err, w)
	}
	if c.SwapPath != Default().SwapPath || len(c.Files) != 0 {
		t.Errorf("got %+v", c)
	}
}

func TestLoadUnreadable(t *testing.T) {
	dir := t.TempDir()
	root := hostroot.Root(dir)
	// A directory where the file should be cannot be read, even by root.
	if err := os.MkdirAll(root.Path("/etc/ransomeye/tuner.conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, _, err := Load(root)
	if err == nil || !strings.Contains(err.Error(), "/etc/ransomeye/tuner.conf: cannot read") {
		t.Fatalf("want a cannot-read error naming the file, got %v", err)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"16G", 16 << 30, true}, {"1.5G", 3 << 29, true}, {"1024", 1024, true}, {"512M", 512 << 20, true},
		{"1T", 1 << 40, true}, {"64T", 64 << 40, true}, {"65T", 0, false}, {"", 0, false}, {"G", 0, false},
		{"-1", 0, false}, {"1e9", 0, false}, {"0x10", 0, false}, {"NaN", 0, false}, {"Inf", 0, false},
		{"100B", 100, true},
		// What the tool prints, and the spellings of systemd, util-linux
		// and people: all powers of 1024.
		{"16.0 GiB", 16 << 30, true}, {"16GiB", 16 << 30, true}, {"16 GiB", 16 << 30, true}, {"16g", 16 << 30, true},
		{"16384M", 16 << 30, true}, {"1.5T", 3 << 39, true}, {"1 G", 1 << 30, true}, {"512 B", 512, true}, {"1.5 KiB", 1536, true},
		{"16gib", 16 << 30, true}, {" 16G ", 16 << 30, true},
		// Ambiguous or malformed.
		{"16GB", 0, false}, {"16 MB", 0, false}, {"16.G", 0, false}, {".5G", 0, false}, {"16 G B", 0, false}, {"16GiBs", 0, false},
		{"1G 512M", 0, false}, {"16Gi", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "[Swap]\nPath=/swapfile\n", "[CPU]\nIsolation=off\n", "[Swap]\nMinSize=1.5G\\\n\n",
		"[Sysctl]\nSwappiness=%d\n", "[Swap]\nPath=/a%%b\n", "[\n", "=\n", "[Swap]\nPath=/x\nPath=\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, _, err := parse("fuzz.conf", text)
		if err != nil {
			return
		}
		// Whatever is accepted must be safe to write into a unit file.
		for _, v := range []string{c.SwapPath, c.Units["core"], c.Units["dpi"], c.Units["training"], c.DPIInterface, c.MetricsPath} {
			if strings.ContainsAny(v, "\n\r\x00") {
				t.Fatalf("accepted value %q holds a line break or NUL", v)
			}
		}
		if c.MinSize < MinSwapSize || c.MinSize > MaxSize || c.Reserve < 0 || c.Reserve > MaxSize {
			t.Fatalf("accepted out-of-range size: %+v", c)
		}
		for _, s := range []string{c.Units["core"], c.Units["dpi"], c.Units["training"]} {
			if strings.ContainsAny(s, "%$ ") {
				t.Fatalf("accepted service name %q with a specifier or space", s)
			}
		}
	})
}

// TestErrorCoreService: an invalid configuration still names the core when
// nothing that could name it was refused or unread; the generator gates it.
// Cores lists every valid name a CoreService= line assigns, read lexically
// in any section, for the generator to gate whatever the section parser
// made of the file (a line continuation can swallow the [CPU] header).
func TestErrorCoreService(t *testing.T) {
	for _, tc := range []struct {
		text, want string
		cores      []string
	}{
		{"[CPU]\nCoreService=mydb.service\n[Sysctl]\nSwappiness=1O\n", "mydb.service", []string{"mydb.service"}},
		{"[Sysctl]\nSwappiness=1O\n", "ransomeye-core.service", []string{"ransomeye-core.service"}},
		{"[CPU]\nCoreService=mydb.service\nCoreService=evil%n.service\n[Sysctl]\nSwappiness=1O\n", "", []string{"mydb.service"}},
		{"[CPU]\nCoreService=my\x01db.service\n", "", nil},
		{"[CPU\nCoreService=mydb.service\n", "", []string{"mydb.service"}},
		{"[CPU]\nCoreService mydb.service\n", "", nil},
		{"[CPU]\nCoreService=mydb.service\n[Swap]\nPath=relative\n", "mydb.service", []string{"mydb.service"}},
		// The review's case: the backslash joins "[CPU]" into the bad
		// value, and CoreService= lands in [Sysctl].
		{"[Sysctl]\nSwappiness=1O \\\n[CPU]\nCoreService=mydb.service\n", "", []string{"mydb.service"}},
		// The backslash joins the CoreService= line itself into the value.
		{"[CPU]\nIsolation=sometimes \\\nCoreService=mydb.service\n", "ransomeye-core.service", []string{"mydb.service", "ransomeye-core.service"}},
		// A value continued on the next line: both readings are gated.
		{"[CPU]\nCoreService=my\\\n  db.service\n", "", nil},
		{"[CPU]\nCoreService=mydb.service\\\n[Sysctl]\nSwappiness=1\n", "", []string{"mydb.service"}},
		{"[Nope]\nCoreService=other.service\n[CPU]\nCoreService=mydb.service\n", "", []string{"mydb.service", "other.service"}},
		{"CoreService=other.service\n", "", []string{"other.service"}},
		{"[CPU]\n# CoreService=commented.service\nIsolation=x\n", "ransomeye-core.service", []string{"ransomeye-core.service"}},
	} {
		_, _, err := parse("tuner.conf", tc.text)
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%q: error %v, want an *Error", tc.text, err)
			continue
		}
		if ce.CoreService != tc.want {
			t.Errorf("%q: CoreService %q, want %q", tc.text, ce.CoreService, tc.want)
		}
		if !slices.Equal(ce.Cores, tc.cores) {
			t.Errorf("%q: Cores %q, want %q", tc.text, ce.Cores, tc.cores)
		}
	}
}

// TestErrorCoresSalvagesSystemctlForms: the configured core's own line is
// written the way systemctl or a shell would take it (quoted, without the
// ".service" suffix, with a trailing comment). The value is invalid, so the
// whole configuration is, and activate fails closed; Error.Cores must still
// hold mydb.service, or the generator writes no gate for it and
// mydb.service starts with no guarantee. Gating a unit that is not the core
// only keeps it down while the configuration is invalid (config.go's own
// rule), so the salvage can afford to read these the way systemctl does.
func TestErrorCoresSalvagesSystemctlForms(t *testing.T) {
	for _, v := range []string{`"mydb.service"`, `'mydb.service'`, `mydb`, `mydb.service # the database`} {
		text := "[CPU]\nCoreService=" + v + "\n"
		_, _, err := parse("tuner.conf", text)
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%q: error %v, want an *Error", text, err)
			continue
		}
		if !slices.Contains(ce.Cores, "mydb.service") {
			t.Errorf("%q: Cores %q: mydb.service is not gated while the configuration is invalid", text, ce.Cores)
		}
	}
}

// TestSalvageName: the forms salvageName reads, and what it leaves
// ungated because it is still no valid service name then.
func TestSalvageName(t *testing.T) {
	for v, want := range map[string]string{
		`mydb`:                        "mydb.service",
		`"mydb"`:                      "mydb.service",
		`'db@.service'`:               "db@.service",
		`mydb.service ; the database`: "mydb.service",
		`mydb	# tab`:                  "mydb.service",
		`"mydb.service" # quoted`:     "mydb.service",
		`my.db`:                       "my.db.service",
		`mydb.socket`:                 "",
		`'mydb.service`:               "",
		`my db`:                       "",
		`mydb#x`:                      "",
		`""`:                          "",
	} {
		text := "[CPU]\nCoreService=" + v + "\n"
		_, _, err := parse("tuner.conf", text)
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%q: error %v, want an *Error", text, err)
			continue
		}
		var wantCores []string
		if want != "" {
			wantCores = []string{want}
		}
		if !slices.Equal(ce.Cores, wantCores) {
			t.Errorf("%q: Cores %q, want %q", v, ce.Cores, wantCores)
		}
	}
}

// TestServiceKeyOutsideCPU: a service key under any section but [CPU] is an
// error, not an unknown-key warning: read nowhere, it left the core
// ungated.
func TestServiceKeyOutsideCPU(t *testing.T) {
	for _, text := range []string{
		"[Sysctl]\nCoreService=mydb.service\n",
		"[Swap]\nDPIService=cap.service\n",
		"[Metrics]\nTrainingService=train.service\n",
		"[Future]\nCoreService=mydb.service\n",
		"[CPU\nDPIService=cap.service\n",
	} {
		_, _, err := parse("tuner.conf", text)
		if err == nil || !strings.Contains(err.Error(), "belongs under [CPU]") {
			t.Errorf("%q: error %v, want one saying the key belongs under [CPU]", text, err)
		}
	}
}

// TestLoadSkipsByteOrderMark: a file saved with a UTF-8 byte order mark
// (Notepad, some Windows tools) is read as without it, as systemd reads
// its own unit files: "[Swap]" on the first line is the [Swap] section,
// not an unknown one whose settings are lost. Only at the start of the
// file: one further down is part of the line, as for systemd.
func TestLoadSkipsByteOrderMark(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tuner.conf")
	if err := os.WriteFile(path, []byte("\ufeff[Swap]\nMinSize=32G\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, warnings, err := LoadFiles([]string{path})
	if err != nil || len(warnings) != 0 || cfg.MinSize != 32*GiB {
		t.Errorf("with a byte order mark: MinSize %d, warnings %v, error %v; want 32 GiB, none, nil", cfg.MinSize, warnings, err)
	}
	if err := os.WriteFile(path, []byte("[Swap]\n\ufeffMinSize=32G\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if cfg, warnings, _ := LoadFiles([]string{path}); cfg.MinSize == 32*GiB && len(warnings) == 0 {
		t.Errorf("a byte order mark inside the file was skipped silently")
	}
}
