package apply

import (
	"context"
	"fmt"
	"strings"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"

	"github.com/ransomeye/ransomeye-tuner/internal/facts"
)

// jobTimeout bounds the wait for one job: longer than the activator's
// TimeoutStartSec= (15 min: creating a swapfile of the RAM's size on a slow
// disk), after which systemd fails the job itself.
const jobTimeout = 20 * time.Minute

// SystemdManager is the running systemd, over D-Bus.
type SystemdManager struct {
	conn *sddbus.Conn
	// done ends the connection's context: the D-Bus library closes a
	// connection when the context it was dialled with is done, so it
	// lives as long as the manager (a dial under a timeout's context,
	// cancelled on return, closed it before the first call).
	done context.CancelFunc
}

// NewSystemdManager connects to the running systemd; Close releases it.
func NewSystemdManager() (*SystemdManager, error) {
	ctx, done := context.WithCancel(context.Background())
	conn, err := facts.ConnectSystemd(ctx)
	if err != nil {
		done()
		return nil, fmt.Errorf("connect to systemd: %w", err)
	}
	// Job results come as signals: systemd sends them to its private
	// socket's clients unconditionally, on the system bus to subscribers.
	if err := conn.Subscribe(); err != nil {
		conn.Close()
		done()
		return nil, fmt.Errorf("subscribe to systemd's signals: %w", err)
	}
	return &SystemdManager{conn: conn, done: done}, nil
}

// Close closes the connection.
func (s *SystemdManager) Close() {
	s.conn.Close()
	s.done()
}

// Reload is systemctl daemon-reload.
func (s *SystemdManager) Reload() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return s.conn.ReloadContext(ctx)
}

// Run starts or restarts unit ("replace" mode, as systemctl does) and
// waits for the job's result.
func (s *SystemdManager) Run(unit string, restart bool) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), jobTimeout)
	defer cancel()
	ch := make(chan string, 1)
	var err error
	if restart {
		_, err = s.conn.RestartUnitContext(ctx, unit, "replace", ch)
	} else {
		_, err = s.conn.StartUnitContext(ctx, unit, "replace", ch)
	}
	if err != nil {
		return "", err
	}
	select {
	case res := <-ch:
		return res, nil
	case <-ctx.Done():
		return "", fmt.Errorf("no result from systemd after %v", jobTimeout)
	}
}

// State reads the unit's LoadState, ActiveState and, for a service, its
// Result.
func (s *SystemdManager) State(unit string) (UnitState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	props, err := s.conn.GetUnitPropertiesContext(ctx, unit)
	if err != nil {
		return UnitState{}, err
	}
	st := UnitState{}
	st.Load, _ = props["LoadState"].(string)
	st.Active, _ = props["ActiveState"].(string)
	st.File, _ = props["UnitFileState"].(string)
	if strings.HasSuffix(unit, ".service") {
		if sp, err := s.conn.GetUnitTypePropertiesContext(ctx, unit, "Service"); err == nil {
			st.Result, _ = sp["Result"].(string)
		}
	}
	return st, nil
}

// Instances lists the loaded instances of template ("x@.service").
func (s *SystemdManager) Instances(template string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	prefix, _ := strings.CutSuffix(template, "@.service")
	l, err := s.conn.ListUnitsByPatternsContext(ctx, nil, []string{prefix + "@*.service"})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, u := range l {
		out = append(out, u.Name)
	}
	return out, nil
}
