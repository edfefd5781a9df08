// Command fakesys writes a fake machine root (see package fakesys) for
// benchmarks and manual runs of the generator; a test tool, not shipped:
//
//	go run ./testkit/fakesys/cmd/fakesys -nodes 2 -cores 64 -threads 2 -memblocks 8192 DIR
//	RANSOMEYE_TUNER_ROOT=DIR bin/ransomeye-tuner-generator OUT OUT OUT
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ransomeye/ransomeye-tuner/testkit/fakesys"
)

func main() {
	var m fakesys.Machine
	flag.IntVar(&m.Nodes, "nodes", 1, "NUMA nodes (0: no node directories)")
	flag.IntVar(&m.CoresPerNode, "cores", 8, "physical cores per node")
	flag.IntVar(&m.Threads, "threads", 1, "SMT threads per core")
	flag.IntVar(&m.MemoryBlocks, "memblocks", 0, "memory blocks under /sys/devices/system/memory (8192 of 128 MiB = 1 TiB)")
	flag.Int64Var(&m.MemTotalKiB, "memkib", 0, "MemTotal in KiB (0: 8 GiB)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: fakesys [flags] DIR")
		os.Exit(2)
	}
	if err := m.Write(flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "fakesys:", err)
		os.Exit(1)
	}
}
