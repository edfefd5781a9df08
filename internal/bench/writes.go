package bench

import (
	"path/filepath"
	"regexp"
	"strings"
)

// TraceSyscalls is the strace -e trace= list that WritesOutside needs: every
// system call that creates, changes or removes a file by name.
const TraceSyscalls = "open,openat,openat2,creat,mkdir,mkdirat,mknod,mknodat,symlink,symlinkat,link,linkat,rename,renameat,renameat2,unlink,unlinkat,rmdir,truncate,chmod,fchmodat,chown,lchown,fchownat,utimensat,setxattr,lsetxattr,removexattr,lremovexattr"

// callRe matches the start of a traced call: optional pid, name, "(".
var callRe = regexp.MustCompile(`^(?:\[pid\s+\d+\]\s+|\d+\s+)?([a-z0-9_]+)\((.*)$`)

// Write is one file-changing system call seen in a trace.
type Write struct {
	// Call is the system call's name.
	Call string
	// Path is the absolute path it changes.
	Path string
	// Line is the trace line.
	Line string
}

// ParseWrites returns the file-changing calls in the output of
// `strace -f -y -e trace=TraceSyscalls` (failed calls included: an attempt
// to write elsewhere counts). Relative paths are resolved against the
// directory fd strace prints with -y ("5</run/x>"), or against cwd for
// AT_FDCWD and the calls without a directory fd.
func ParseWrites(trace, cwd string) []Write {
	var out []Write
	for _, line := range strings.Split(trace, "\n") {
		m := callRe.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		call, rest := m[1], m[2]
		args := splitArgs(rest)
		var paths []string
		switch call {
		case "open", "creat":
			if call == "open" && (len(args) < 2 || !writeFlags(args[1])) {
				continue
			}
			paths = []string{resolve("", arg(args, 0), cwd)}
		case "openat", "openat2":
			if call == "openat" && (len(args) < 3 || !writeFlags(args[2])) {
				continue
			}
			if call == "openat2" && (len(args) < 3 || !writeFlags(args[2])) {
				continue
			}
			paths = []string{resolve(arg(args, 0), arg(args, 1), cwd)}
		case "mkdir", "rmdir", "unlink", "truncate", "chmod", "chown", "lchown", "setxattr", "lsetxattr", "removexattr", "lremovexattr", "mknod":
			paths = []string{resolve("", arg(args, 0), cwd)}
		case "mkdirat", "unlinkat", "fchmodat", "fchownat", "mknodat":
			paths = []string{resolve(arg(args, 0), arg(args, 1), cwd)}
		case "utimensat":
			if unquote(arg(args, 1)) == "" {
				continue // utimensat(fd, NULL, ...) changes an open file
			}
			paths = []string{resolve(arg(args, 0), arg(args, 1), cwd)}
		case "symlink":
			paths = []string{resolve("", arg(args, 1), cwd)}
		case "symlinkat":
			paths = []string{resolve(arg(args, 1), arg(args, 2), cwd)}
		case "link", "rename":
			paths = []string{resolve("", arg(args, 0), cwd), resolve("", arg(args, 1), cwd)}
		case "linkat":
			paths = []string{resolve(arg(args, 2), arg(args, 3), cwd)}
		case "renameat", "renameat2":
			paths = []string{resolve(arg(args, 0), arg(args, 1), cwd), resolve(arg(args, 2), arg(args, 3), cwd)}
		default:
			continue
		}
		for _, p := range paths {
			if p != "" {
				out = append(out, Write{Call: call, Path: p, Line: strings.TrimSpace(line)})
			}
		}
	}
	return out
}

// WritesOutside returns the writes whose path is not inside one of the
// allowed paths (each allowed path covers itself and what is below it).
func WritesOutside(writes []Write, allowed ...string) []Write {
	var out []Write
	for _, w := range writes {
		ok := false
		for _, a := range allowed {
			a = filepath.Clean(a)
			if w.Path == a || strings.HasPrefix(w.Path, a+"/") || a == "/" {
				ok = true
				break
			}
		}
		if !ok {
			out = append(out, w)
		}
	}
	return out
}

func writeFlags(flags string) bool {
	for _, f := range []string{"O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_TMPFILE"} {
		if strings.Contains(flags, f) {
			return true
		}
	}
	return false
}

func arg(args []string, i int) string {
	if i < len(args) {
		return strings.TrimSpace(args[i])
	}
	return ""
}

// splitArgs splits a traced call's argument text at top-level commas,
// respecting quoted strings, <...> fd paths and {...}/[...] groups; it
// stops at the closing parenthesis.
func splitArgs(s string) []string {
	var args []string
	var cur strings.Builder
	depth := 0
	inStr := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inStr {
			cur.WriteByte(c)
			if c == '\\' && i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[', '<':
			depth++
		case '}', ']', '>':
			if depth > 0 {
				depth--
			}
		case '(':
			depth++
		case ')':
			if depth == 0 {
				args = append(args, cur.String())
				return args
			}
			depth--
		case ',':
			if depth == 0 {
				args = append(args, cur.String())
				cur.Reset()
				continue
			}
		}
		cur.WriteByte(c)
	}
	if strings.TrimSpace(cur.String()) != "" {
		args = append(args, cur.String())
	}
	return args
}

// unquote returns the string inside strace's quotes (escapes left as
// printed, except \" and \\); "" for anything that is not a string.
func unquote(a string) string {
	a = strings.TrimSpace(a)
	if len(a) < 2 || a[0] != '"' {
		return ""
	}
	end := strings.LastIndexByte(a, '"')
	if end <= 0 {
		return ""
	}
	s := a[1:end]
	s = strings.ReplaceAll(s, `\"`, `"`)
	return strings.ReplaceAll(s, `\\`, `\`)
}

// fdPath returns the path strace -y prints for a directory fd ("5</x>"),
// or "" for AT_FDCWD and plain numbers.
func fdPath(a string) string {
	a = strings.TrimSpace(a)
	i := strings.IndexByte(a, '<')
	if i < 0 || !strings.HasSuffix(a, ">") {
		return ""
	}
	return a[i+1 : len(a)-1]
}

// resolve makes the path argument p absolute against the directory fd
// argument dirfd (or cwd).
func resolve(dirfd, p, cwd string) string {
	path := unquote(p)
	if path == "" {
		return ""
	}
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	base := cwd
	if d := fdPath(dirfd); d != "" {
		base = d
	}
	return filepath.Join(base, path)
}
