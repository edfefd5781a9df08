package config

import (
	"errors"
	"slices"
	"testing"
)

// TestReviewR2UnparsedCoreNameUngated: the configured core's own line is
// written the way systemctl or a shell would take it (quoted, without the
// ".service" suffix, with a trailing comment). The value is invalid, so the
// whole configuration is: activate fails closed, but Error.Cores is empty,
// the generator writes no gate for mydb.service, and mydb.service starts
// with no guarantee: the fail-open of FAULTS.md findings 22/26 again.
// Gating a unit that is not the core only keeps it down while the
// configuration is invalid (config.go's own rule), so the salvage can
// afford to read these the way systemctl does.
func TestReviewR2UnparsedCoreNameUngated(t *testing.T) {
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
// ungated because it is still no valid service name then (FAULTS.md,
// finding 41).
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
