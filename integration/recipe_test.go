package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestManFilesSuricataRecipe: the Suricata recipe of ransomeye-tuner(8), as
// boot case 30 takes it, is two files: the DPI service's drop-in, which
// runs the script before Suricata and includes what it writes, and the
// script, which writes the include from the service's environment.
func TestManFilesSuricataRecipe(t *testing.T) {
	files, err := ManFiles("../docs/man/ransomeye-tuner.8.md")
	if err != nil {
		t.Fatal(err)
	}
	dropin, script := files[SuricataDropIn], files[SuricataScript]
	if dropin == "" || script == "" {
		t.Fatalf("the man page shows no %s or no %s; it shows: %v", SuricataDropIn, SuricataScript, keys(files))
	}
	for _, want := range []string{"\n[Service]\n", "\nExecStartPre=" + SuricataScript + "\n", "--include /run/suricata/ransomeye-cpus.yaml"} {
		if !strings.Contains(dropin, want) {
			t.Errorf("the drop-in lacks %q:\n%s", want, dropin)
		}
	}
	for _, want := range []string{"#!/bin/sh\n", "$RANSOMEYE_CPU_COUNT", "$RANSOMEYE_CPUS", "/run/suricata/ransomeye-cpus.yaml"} {
		if !strings.Contains(script, want) {
			t.Errorf("the script lacks %q:\n%s", want, script)
		}
	}
	if strings.Contains(dropin, "#!/bin/sh") {
		t.Errorf("the drop-in runs into the script:\n%s", dropin)
	}
}

// TestManShowsThePostgreSQLCoreRecipe: boot cases 32 and 32b run Debian's
// PostgreSQL cluster unit as the core, with the configuration file
// ransomeye-tuner(8) shows; no man page showed it (nor named PostgreSQL),
// so an administrator setting up PostgreSQL as the core could not follow
// what the boot suite proved. The file must name the cluster's unit.
func TestManShowsThePostgreSQLCoreRecipe(t *testing.T) {
	files, err := ManFiles("../docs/man/ransomeye-tuner.8.md")
	if err != nil {
		t.Fatal(err)
	}
	conf := files[PostgreSQLConf]
	if conf == "" {
		t.Fatalf("the man page shows no %s; it shows: %v", PostgreSQLConf, keys(files))
	}
	for _, want := range []string{"\n[CPU]\n", "\nCoreService=" + PostgreSQLCore + "\n"} {
		if !strings.Contains(conf, want) {
			t.Errorf("the PostgreSQL recipe lacks %q:\n%s", want, conf)
		}
	}
}

// TestManFilesSplitsBlocks: a code block is split into files at blank
// lines; text between blocks, and blocks that name no path, are not files.
func TestManFilesSplitsBlocks(t *testing.T) {
	page := filepath.Join(t.TempDir(), "x.8.md")
	src := "Prose.\n\n    # /etc/a.conf\n    [A]\n    x=1\n\n    #!/bin/sh\n    # /usr/local/sbin/b: does b\n    echo b\n\nMore prose.\n\n    no path here\n    at all\n"
	if err := os.WriteFile(page, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := ManFiles(page)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/etc/a.conf":       "# /etc/a.conf\n[A]\nx=1\n",
		"/usr/local/sbin/b": "#!/bin/sh\n# /usr/local/sbin/b: does b\necho b\n",
	}
	if len(files) != len(want) {
		t.Fatalf("ManFiles = %q, want %q", files, want)
	}
	for p, w := range want {
		if files[p] != w {
			t.Errorf("%s = %q, want %q", p, files[p], w)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
