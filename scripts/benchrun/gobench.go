package main

import (
	"os"
	"os/exec"
	"strings"
)

// goBenchPkgs hold the testing.B benchmarks of the plan and the rendering.
var goBenchPkgs = []string{"./internal/cpuplan", "./internal/generate", "./internal/topology"}

// goBenchmarks runs the packages' Go benchmarks once and adds their lines
// to the report (regressions in the plan and the rendering show there).
func goBenchmarks(r *report) {
	gobin := os.Getenv("GO")
	if gobin == "" {
		gobin = "go"
	}
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", "100x", "-count", "1"}, goBenchPkgs...)
	out, err := exec.Command(gobin, args...).CombinedOutput()
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Benchmark") || strings.HasPrefix(l, "pkg:") {
			lines = append(lines, l)
		}
	}
	cmd := gobin + " " + strings.Join(args, " ")
	if err != nil {
		r.detail("**Go benchmarks** (`%s`) failed: %v\n\n```\n%s\n```", cmd, err, strings.TrimSpace(string(out)))
		r.failed = true
		return
	}
	r.detail("**Go benchmarks** (`%s`; in-process, garbage collector on, so heavier than in the generator, which turns it off):\n\n```\n%s\n```", cmd, strings.Join(lines, "\n"))
}
