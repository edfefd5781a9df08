package cli

import (
	"github.com/ransomeye/ransomeye-tuner/internal/placement"
	"github.com/ransomeye/ransomeye-tuner/internal/priolog"
)

// logPlacement logs what placement.Activate did: its problems as warnings
// (interrupt and kernel-work placement never keeps the core down: the
// core's correctness does not depend on it, and a driver can move its
// interrupts again at any time), the rest at info.
func logPlacement(log *priolog.Logger, r placement.Report) {
	for _, l := range r.Infos {
		log.Infof("%s", l)
	}
	for _, w := range r.Warnings {
		log.Warnf("%s", w)
	}
}
