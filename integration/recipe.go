package integration

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// ManFiles returns the files a man page's source shows in its indented
// (code) blocks, by the path each names in its first comment line: a block
// is split into files at blank lines, and a file is one whose first line is
// "# /PATH" or whose first line is "#!..." and second "# /PATH" (a script).
// The text is the block's, unindented, with a final newline, as an
// administrator copies it. Why: the boot cases run the recipes users read,
// taken from the man page's source, so that the two cannot drift.
func ManFiles(page string) (map[string]string, error) {
	b, err := os.ReadFile(page)
	if err != nil {
		return nil, fmt.Errorf("read man page source: %w", err)
	}
	files := map[string]string{}
	var cur []string
	flush := func() {
		defer func() { cur = nil }()
		for len(cur) > 0 && strings.TrimSpace(cur[len(cur)-1]) == "" {
			cur = cur[:len(cur)-1]
		}
		if len(cur) == 0 {
			return
		}
		first := cur[0]
		if strings.HasPrefix(first, "#!") && len(cur) > 1 {
			first = cur[1]
		}
		m := manFilePath.FindStringSubmatch(first)
		if m == nil {
			return
		}
		files[m[1]] = strings.Join(cur, "\n") + "\n"
	}
	inBlock := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "    "):
			if !inBlock {
				flush()
				inBlock = true
			}
			if strings.TrimSpace(line) == "" {
				flush()
				continue
			}
			cur = append(cur, strings.TrimPrefix(line, "    "))
		case strings.TrimSpace(line) == "":
			// A blank line inside a block ends the file, not the block.
			flush()
		default:
			flush()
			inBlock = false
		}
	}
	flush()
	return files, nil
}

// manFilePath is a file's path in its first comment line ("# /etc/x.conf"
// or "# /usr/local/sbin/x: what it does").
var manFilePath = regexp.MustCompile(`^# (/[^ :]+)(:.*)?$`)

// The Suricata recipe's files in ransomeye-tuner(8).
const (
	SuricataDropIn = "/etc/systemd/system/ransomeye-dpi.service.d/50-suricata-cpus.conf"
	SuricataScript = "/usr/local/sbin/suricata-ransomeye-cpus"
)

// The PostgreSQL core recipe in ransomeye-tuner(8): the configuration
// file it shows, which boot cases 32 and 32b run, and the unit it names.
const (
	PostgreSQLConf = "/etc/ransomeye/tuner.conf"
	PostgreSQLCore = "postgresql@15-main.service"
)
