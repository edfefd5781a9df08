// Package integration is the boot suite: it builds a Debian 12 image with
// systemd, installs ransomeye-tuner into it the way the package lays it out,
// and boots it in qemu once per case, reading the machine's state back from
// a report the guest writes to a serial port.
//
// The boot cases live in boot_test.go behind the vmtest build tag:
//
//	go test -tags vmtest -v ./integration/...
//
// The parsers and checks of the report and logs are plain functions with
// ordinary tests, so `go test ./...` covers them without a VM. See README.md.
package integration
