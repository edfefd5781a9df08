// Package version holds the release version, set at link time.
package version

// Version is the release version; the Makefile sets it with -ldflags -X.
var Version = "0.1.0-dev"
