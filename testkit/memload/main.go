// Command memload is a test-only load for the boot suite's memory cases,
// built on the host (static) and copied into the guest image; never part
// of the package.
//
//	memload hold MIB STATEFILE   a working set touched once, as a
//	                             database's cold cache is: it allocates MIB
//	                             of anonymous memory, writes every page once,
//	                             writes "ready" to STATEFILE and waits; on
//	                             SIGUSR1 it reads every page again and
//	                             appends "retouch majflt=N ms=T" (the major
//	                             faults, swap-ins, that took, from
//	                             getrusage) to STATEFILE.
//	memload churn MIB STATEFILE  a hog that keeps MIB hot, as a training job
//	                             does: it writes every page, saying
//	                             "touched N" (MiB) in STATEFILE every 32 MiB
//	                             and "allocated" at the end, then writes
//	                             every page again, round after round, until
//	                             killed.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: memload hold|churn MIB STATEFILE")
		os.Exit(2)
	}
	mib, err := strconv.Atoi(os.Args[2])
	if err != nil || mib <= 0 {
		fmt.Fprintf(os.Stderr, "memload: %q is not a size in MiB\n", os.Args[2])
		os.Exit(2)
	}
	state := os.Args[3]
	mem, err := syscall.Mmap(-1, 0, mib<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		fmt.Fprintf(os.Stderr, "memload: mmap %d MiB: %v\n", mib, err)
		os.Exit(1)
	}
	page := os.Getpagesize()
	churn := os.Args[1] == "churn"
	// A distinct non-zero byte per page: no page is the zero page, and no
	// two pages are alike (nothing to merge).
	for i := 0; i < len(mem); i += page {
		mem[i] = byte(i/page) | 1
		if churn && i > 0 && i%(32<<20) == 0 {
			say(state, fmt.Sprintf("touched %d", i>>20), false)
		}
	}
	switch os.Args[1] {
	case "hold":
		say(state, "ready", false)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGUSR1)
		for range sig {
			before := majflt()
			start := time.Now()
			var sum byte
			for i := 0; i < len(mem); i += page {
				sum += mem[i]
			}
			say(state, fmt.Sprintf("retouch majflt=%d ms=%d sum=%d", majflt()-before, time.Since(start).Milliseconds(), sum), true)
		}
	case "churn":
		say(state, "allocated", true)
		for round := 1; ; round++ {
			for i := 0; i < len(mem); i += page {
				mem[i] = byte(round + i/page)
			}
		}
	default:
		fmt.Fprintf(os.Stderr, "memload: unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
}

// majflt is this process's major page faults so far.
func majflt() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Majflt
}

// say writes line to the state file (appending when add is set).
func say(path, line string, add bool) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if add {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "memload: %v\n", err)
		return
	}
	fmt.Fprintln(f, line)
	f.Close()
}
