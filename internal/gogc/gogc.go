// Package gogc sets a command's own garbage-collector target: a percent
// of its choosing unless GOGC is set, in which case the environment still
// decides. `picogo run` and `picogo sim` each have theirs.
package gogc

import (
	"fmt"
	"os"
	"runtime/debug"
)

// Use sets the collector's target to percent (name says where it comes
// from) unless GOGC is set. It says which setting is in force, and returns
// a func that puts the one before back.
func Use(percent int, name string) (setting string, restore func()) {
	if g := os.Getenv("GOGC"); g != "" {
		return "GOGC=" + g + ", from the environment", func() {}
	}
	before := debug.SetGCPercent(percent)
	return fmt.Sprintf("GOGC=%d, %s", percent, name), func() { debug.SetGCPercent(before) }
}
