package apply

import (
	"errors"
	"time"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/marker"
	"github.com/ransomeye/ransomeye-tuner/internal/msgid"
	"github.com/ransomeye/ransomeye-tuner/internal/names"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
)

// WriteMarker removes the success record and appends e (the time and boot
// id added here) to the marker, logging it; it reports whether a marker
// records the failure, and how many planted markers it removed.
func WriteMarker(root hostroot.Root, log *priolog.Logger, e marker.Entry) (written bool, planted int) {
	// Removing needs no space: with a full /run the gate stays closed.
	if err := marker.RemoveOK(root); err != nil {
		log.Event(msgid.RecordFailed, priolog.Crit, "cannot remove the success record %q: %v", marker.OKPath, err)
	}
	e.Time, e.BootID = time.Now(), marker.BootID(root)
	res, err := marker.Write(root, e)
	AlertPlanted(log, res.Planted)
	if err != nil {
		log.Event(msgid.MarkerWriteFailed, priolog.Crit, "cannot write the failure marker %q nor %q: %v; %s may start without guaranteed resources", names.MarkerPath, marker.FallbackPath, err, e.Core)
		return false, len(res.Planted)
	}
	if res.Written != names.MarkerPath {
		log.Event(msgid.MarkerFallback, priolog.Err, "cannot write the failure marker %q (%v): wrote %q instead, which the gate checks too", names.MarkerPath, errors.Join(res.Problems...), res.Written)
	}
	return true, len(res.Planted)
}

// RemoveSuccessRecord removes this boot's success record when the
// activator's unit stops (shutdown, soft-reboot, a restart): /run and the
// boot id survive a soft-reboot, and the gate must open only while the
// unit is active. It reports whether the record is gone, logging why not.
func RemoveSuccessRecord(root hostroot.Root, log *priolog.Logger) bool {
	if err := marker.RemoveOK(root); err != nil {
		log.Errorf("remove the success record: %v", err)
		return false
	}
	return true
}

// AlertPlanted logs planted markers as a security event.
func AlertPlanted(log *priolog.Logger, planted []string) {
	for _, p := range planted {
		log.Event(msgid.MarkerPlanted, priolog.Alert, "security: a marker not written by root was planted at %s; removed it (someone tried to keep the RansomEye core down or to redirect root's write)", p)
	}
}

// RemovePlanted is the gate's first step: what is planted is removed and
// logged as a security event; what cannot be examined, as a problem.
func RemovePlanted(root hostroot.Root, log *priolog.Logger) {
	res := marker.RemovePlanted(root)
	AlertPlanted(log, res.Planted)
	for _, p := range res.Problems {
		log.Event(msgid.GateProblem, priolog.Err, "gate: %v", p)
	}
}
