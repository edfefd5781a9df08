package apply

import (
	"strings"
	"testing"

	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
)

func TestLimit(t *testing.T) {
	var notes []priolog.Note
	for i := 0; i < 6; i++ {
		notes = append(notes, priolog.Notef(priolog.Warning, "warning %d", i))
	}
	notes = append(notes, priolog.Notef(priolog.Err, "error a"), priolog.Notef(priolog.Info, "info"), priolog.Notef(priolog.Err, "error b"))
	if got := Limit(notes, 9); len(got) != 9 {
		t.Fatalf("fits: %d notes", len(got))
	}
	got := Limit(notes, 4)
	var texts []string
	for _, n := range got {
		texts = append(texts, n.Text)
	}
	want := "warning 0|error a|error b|6 more messages not logged (the kernel log takes 4 per run); `ransomeye-tuner plan` shows them all"
	if strings.Join(texts, "|") != want {
		t.Errorf("Limit:\n got %s\nwant %s", strings.Join(texts, "|"), want)
	}
	if got[3].Priority != priolog.Warning {
		t.Errorf("overflow line at priority %d, want the worst dropped (warning)", got[3].Priority)
	}
}
