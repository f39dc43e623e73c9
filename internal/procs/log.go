package procs

import (
	"fmt"
	"io"
	"os"
)

// A child's log is a plain file that outlives its runs: a restarted child
// appends to it, and the code that runs it notes what it did to the child
// (killed it, paused it) between the child's own lines. These read and
// write it by path, so they work whether the child is running or not.

// AppendLog appends line, and a newline, to the log at path, creating it
// if need be.
func AppendLog(path, line string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// LogSize is the length of the log at path so far, 0 if it cannot be read:
// LogSince(path, LogSize(path)) later reads what came after.
func LogSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// LogSince is the log at path from offset on; empty if it cannot be read
// or is shorter than offset.
func LogSince(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return ""
	}
	return string(b)
}

// LogTail is the last n bytes of the log at path, after a line "..." when
// there was more: what a failure report shows of a log that may be large.
func LogTail(path string, n int) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	prefix := ""
	if fi.Size() > int64(n) {
		if _, err := f.Seek(fi.Size()-int64(n), io.SeekStart); err != nil {
			return "", err
		}
		prefix = "...\n"
	}
	b, err := io.ReadAll(io.LimitReader(f, int64(n)))
	if err != nil {
		return "", err
	}
	return prefix + string(b), nil
}
