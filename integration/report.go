package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Report is what the guest's report service wrote to the second serial
// port: key=value lines and named blocks of command output, between the
// lines @@report-begin and @@report-end.
type Report struct {
	// Values holds the key=value lines; a later line wins.
	Values map[string]string
	// Blocks holds the @@begin NAME ... @@end NAME rc=N sections.
	Blocks map[string]Block
	// Complete is true when the @@report-end line was seen: the guest got
	// through the whole report script.
	Complete bool
}

// Block is the verbatim output of one command in the report and its exit code.
type Block struct {
	// Text is the command's output, lines joined with "\n".
	Text string
	// RC is the command's exit code; -1 when the block was cut off.
	RC int
}

// ParseReport parses the raw bytes of the report serial port. Carriage
// returns (the tty's ONLCR) and anything outside the begin/end markers are
// dropped. It fails when the begin marker is missing.
func ParseReport(raw []byte) (Report, error) {
	r := Report{Values: map[string]string{}, Blocks: map[string]Block{}}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	begun := false
	var blockName string
	var blockLines []string
	inBlock := false
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if !begun {
			if line == "@@report-begin" {
				begun = true
			}
			continue
		}
		if inBlock {
			if rest, ok := strings.CutPrefix(line, "@@end "+blockName+" rc="); ok {
				rc, err := strconv.Atoi(rest)
				if err != nil {
					return r, fmt.Errorf("report block %q: bad exit code %q", blockName, rest)
				}
				r.Blocks[blockName] = Block{Text: strings.Join(blockLines, "\n"), RC: rc}
				inBlock = false
				continue
			}
			blockLines = append(blockLines, line)
			continue
		}
		switch {
		case line == "@@report-end":
			r.Complete = true
			return r, nil
		case strings.HasPrefix(line, "@@begin "):
			blockName = strings.TrimPrefix(line, "@@begin ")
			blockLines = nil
			inBlock = true
		default:
			if k, v, ok := strings.Cut(line, "="); ok && k != "" {
				r.Values[k] = v
			}
		}
	}
	if err := sc.Err(); err != nil {
		return r, fmt.Errorf("read report: %w", err)
	}
	if !begun {
		return r, fmt.Errorf("no @@report-begin line: the report service did not run (read the console log)")
	}
	if inBlock {
		r.Blocks[blockName] = Block{Text: strings.Join(blockLines, "\n"), RC: -1}
	}
	return r, nil
}

// Get returns the value of key, or "" when the report does not have it.
func (r Report) Get(key string) string { return r.Values[key] }

// Unit returns the property prop of unit as the guest's systemctl showed it
// (the report's unit.UNIT.PROP key).
func (r Report) Unit(unit, prop string) string { return r.Values["unit."+unit+"."+prop] }

// Int returns the value of key as an integer and whether it was one.
func (r Report) Int(key string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(r.Values[key]), 10, 64)
	return n, err == nil
}

// Text returns the text of block name, or "" when the report has none.
func (r Report) Text(name string) string { return r.Blocks[name].Text }
