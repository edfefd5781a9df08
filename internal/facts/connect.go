package facts

import (
	"context"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
)

// ConnectSystemd connects to systemd the way the facts ask it (as root at
// its private socket, else the system bus at its fixed path), for the one
// caller that asks it to act: recover.
func ConnectSystemd(ctx context.Context) (*sddbus.Conn, error) { return connect(ctx) }
