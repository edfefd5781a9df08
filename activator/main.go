// Command ransomeye-tuner is the activator oneshot (ransomeye-tuner
// activate) and the operator command line (status, plan, fail-closed, gate).
// See internal/cli.
package main

import (
	"os"

	"github.com/ransomeye/ransomeye-tuner/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
