// Package leakscan looks for API keys in everything a run left behind:
// every file under a folder (reports, logs, data plane dumps), against a
// redactor that knows every key of the run in every encoding the suites
// use. What it reports names the file and line, with keys redacted.
package leakscan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/keyconform/keyconform/suites/scenario"
)

// maxShown bounds the redacted excerpt of a line holding a key.
const maxShown = 200

// Result is what a scan found.
type Result struct {
	Files int
	Bytes int64
	// Leaks are "file:line: excerpt", keys redacted.
	Leaks []string
}

// Scan scans every regular file of paths (files, or folders walked
// whole); a path that does not exist holds nothing.
func Scan(r *scenario.Redactor, paths ...string) (Result, error) {
	var res Result
	for _, p := range paths {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := scan(&res, r, p); err != nil {
			return res, fmt.Errorf("scanning %s for API keys: %w", p, err)
		}
	}
	return res, nil
}

func scan(res *Result, r *scenario.Redactor, root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		res.Files++
		res.Bytes += int64(len(data))
		if !r.Leaks(string(data)) {
			return nil
		}
		rel, _ := filepath.Rel(filepath.Dir(root), path)
		lines := bufio.NewScanner(bytes.NewReader(data))
		lines.Buffer(nil, len(data)+1)
		for n := 1; lines.Scan(); n++ {
			if line := lines.Text(); r.Leaks(line) {
				shown := r.Redact(line)
				if len(shown) > maxShown {
					shown = shown[:maxShown] + "..."
				}
				res.Leaks = append(res.Leaks, fmt.Sprintf("%s:%d: %s", rel, n, shown))
			}
		}
		return nil
	})
}
