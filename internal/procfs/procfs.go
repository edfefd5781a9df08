// Package procfs parses the /proc files the tuner reads (command line,
// meminfo, swaps) from text, so that they are fuzzed without a /proc.
package procfs

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/hostroot"
	"github.com/ransomeye/ransomeye-tuner/internal/readfile"
)

// maxKernelFile bounds what is read of each file: the kernel's are a few
// KiB (the command line at most 4 KiB on x86, 32 swap areas at most), and a
// file under a root prefix that never ends stops there.
const maxKernelFile = 1 << 20

// ReadCmdline returns the words of /proc/cmdline under root.
func ReadCmdline(root hostroot.Root) ([]string, error) {
	b, err := readfile.Kernel(root.Path("/proc/cmdline"), maxKernelFile)
	if err != nil {
		return nil, fmt.Errorf("read kernel command line: %w", err)
	}
	return SplitCmdline(string(b)), nil
}

// SplitCmdline splits a kernel command line into words, honouring double
// quotes the way the kernel does (`a="b c"` is one word, quotes removed).
// Words after a lone "--" belong to init and are dropped.
func SplitCmdline(s string) []string {
	var words []string
	var cur strings.Builder
	inQuote, inWord := false, false
	flush := func() {
		if inWord {
			words = append(words, cur.String())
		}
		cur.Reset()
		inWord = false
	}
	for _, c := range s {
		switch {
		case c == '"':
			inQuote = !inQuote
			inWord = true
		case !inQuote && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			flush()
			if len(words) > 0 && words[len(words)-1] == "--" {
				return words[:len(words)-1]
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	flush()
	if len(words) > 0 && words[len(words)-1] == "--" {
		words = words[:len(words)-1]
	}
	return words
}

// CmdlineValue returns the value of the last "key=value" word for key, and
// whether key appeared at all (a bare "key" counts, with value "").
func CmdlineValue(words []string, key string) (string, bool) {
	val, found := "", false
	for _, w := range words {
		k, v, hasEq := strings.Cut(w, "=")
		if k != key {
			continue
		}
		found = true
		if hasEq {
			val = v
		} else {
			val = ""
		}
	}
	return val, found
}

// ParseBool reads a boolean the way systemd reads kernel command-line
// switches: 1/yes/y/true/t/on and 0/no/n/false/f/off. A bare switch ("")
// means true.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "1", "yes", "y", "true", "t", "on":
		return true, nil
	case "0", "no", "n", "false", "f", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean: use 1 or 0", v)
}

// Meminfo holds the /proc/meminfo fields the tuner uses, in bytes.
type Meminfo struct {
	MemTotal  int64
	SwapTotal int64
	SwapFree  int64
}

// ReadMeminfo parses /proc/meminfo under root.
func ReadMeminfo(root hostroot.Root) (Meminfo, error) {
	p := root.Path("/proc/meminfo")
	b, err := readfile.Kernel(p, maxKernelFile)
	if err != nil {
		return Meminfo{}, fmt.Errorf("read memory size: %w", err)
	}
	m, err := ParseMeminfo(string(b))
	if err != nil {
		return Meminfo{}, fmt.Errorf("parse %q: %w", p, err)
	}
	return m, nil
}

// ParseMeminfo parses the text of /proc/meminfo. MemTotal is required.
func ParseMeminfo(s string) (Meminfo, error) {
	var m Meminfo
	seen := false
	for _, line := range strings.Split(s, "\n") {
		key, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch key {
		case "MemTotal":
			dst = &m.MemTotal
		case "SwapTotal":
			dst = &m.SwapTotal
		case "SwapFree":
			dst = &m.SwapFree
		default:
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 || len(f) > 2 || (len(f) == 2 && f[1] != "kB") {
			return Meminfo{}, fmt.Errorf("malformed %s line %q", key, line)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n < 0 || n > (1<<53)/1024 {
			return Meminfo{}, fmt.Errorf("malformed %s value %q", key, f[0])
		}
		if len(f) == 2 {
			n *= 1024
		}
		*dst = n
		if key == "MemTotal" {
			seen = true
		}
	}
	if !seen || m.MemTotal == 0 {
		return Meminfo{}, fmt.Errorf("no MemTotal line")
	}
	return m, nil
}

// Swap is one line of /proc/swaps (sizes in bytes); its JSON is status's.
type Swap struct {
	// Filename is the path, the kernel's octal escapes undone.
	Filename string `json:"filename"`
	Type     string `json:"type"` // "file" or "partition"
	Size     int64  `json:"size_bytes"`
	Used     int64  `json:"used_bytes"`
	Priority int    `json:"priority"`
}

// ReadSwaps parses /proc/swaps under root.
func ReadSwaps(root hostroot.Root) ([]Swap, error) {
	p := root.Path("/proc/swaps")
	b, err := readfile.Kernel(p, maxKernelFile)
	if err != nil {
		return nil, fmt.Errorf("read active swap: %w", err)
	}
	s, err := ParseSwaps(string(b))
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", p, err)
	}
	return s, nil
}

// ParseSwaps parses the text of /proc/swaps (header line first).
func ParseSwaps(s string) ([]Swap, error) {
	var out []Swap
	for i, line := range strings.Split(s, "\n") {
		if i == 0 || strings.TrimSpace(line) == "" {
			continue
		}
		// Blanks only: any other byte ("\f") is part of the path.
		f := Fields(line)
		if len(f) != 5 {
			return nil, fmt.Errorf("line %d: want 5 fields, found %d in %q", i+1, len(f), line)
		}
		size, err1 := strconv.ParseInt(f[2], 10, 64)
		used, err2 := strconv.ParseInt(f[3], 10, 64)
		prio, err3 := strconv.Atoi(f[4])
		if err1 != nil || err2 != nil || err3 != nil || size < 0 || used < 0 || size > (1<<53)/1024 || used > (1<<53)/1024 {
			return nil, fmt.Errorf("line %d: malformed numbers in %q", i+1, line)
		}
		out = append(out, Swap{Filename: Unescape(f[0]), Type: f[1], Size: size * 1024, Used: used * 1024, Priority: prio})
	}
	return out, nil
}

// Fields splits on spaces and tabs only, as the kernel and libmount do.
func Fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' })
}

// Unescape undoes the \ooo escaping of /proc/swaps, mountinfo and fstab.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// Enabled reports whether the kernel command line leaves the tuner on: it is
// off only with ransomeye.tuner=0 (or another false value). An unparsable
// value leaves it on and is returned as an error to log.
func Enabled(words []string) (bool, error) {
	v, found := CmdlineValue(words, "ransomeye.tuner")
	if !found {
		return true, nil
	}
	on, err := ParseBool(v)
	if err != nil {
		return true, fmt.Errorf("kernel command line ransomeye.tuner=%s: %w; the tuner stays on", v, err)
	}
	return on, nil
}
