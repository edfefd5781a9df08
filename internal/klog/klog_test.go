package klog

import (
	"bytes"
	"strings"
	"testing"
)

func TestPrefixAndSplit(t *testing.T) {
	var b bytes.Buffer
	l := New(&b, "")
	l.Crit("swapfile %q: no space\n<6>forged info line", "/x")
	want := "<2>swapfile \"/x\": no space\n<2><6>forged info line\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestTagAndFilter(t *testing.T) {
	var b bytes.Buffer
	l := New(&b, "gen")
	l.SetMaxPriority(Notice)
	var seen []Priority
	l.SetSink(func(p Priority, _ string) { seen = append(seen, p) })
	l.Debugf("hidden")
	l.Warnf("shown")
	if strings.Contains(b.String(), "hidden") || !strings.HasPrefix(b.String(), "<4>gen[") || !strings.Contains(b.String(), "]: shown\n") {
		t.Errorf("got %q", b.String())
	}
	if len(seen) != 2 {
		t.Errorf("sink saw %v, want both messages", seen)
	}
	var nilLogger *Logger
	nilLogger.Crit("no panic")
}
