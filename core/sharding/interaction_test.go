package sharding

import (
	"flag"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/picogo/picogo/core/script"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/internal/testscript"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata scripts with the actual output")

// TestMoveScripts runs the scripts in testdata/: the move protocol step by
// step, as the governor drives it (Plan, then the step's change applied as
// its CaS would) and as a storage fences requests meanwhile. After every
// step the ranges must still cover the tier's buckets exactly once.
//
// Commands:
//
//	bootstrap count=N ready=(r1,r2)  the tier's first ranges
//	target ID weight=W [unready]     add or change a target
//	plan [max=N]                      the next step (remembered)
//	apply                             the remembered step's change (a Copy's flip)
//	fence ID bucket=B [write]         what replicaset ID answers for bucket B
//	ranges                            the ranges as they are
func TestMoveScripts(t *testing.T) {
	testscript.RunDir(t, "testdata/*.txt", func(t *testing.T, file string) {
		testscript.RunFile(t, file, *rewrite, (&moveEnv{t: t}).handle)
	})
}

type moveEnv struct {
	t       *testing.T
	count   uint64
	targets []Target
	rows    []tables.BucketRange
	step    Step
}

func (e *moveEnv) handle(d script.Directive) string {
	switch d.Cmd {
	case "bootstrap":
		e.count = e.uint(d, "count", 3000)
		ids, _ := d.Keyed("ready")
		e.targets = ready(ids...)
		e.rows = Bootstrap(tier, e.count, e.targets)
		return e.ranges()
	case "target":
		pos := d.Positional()
		if len(pos) == 0 {
			return "target: which?"
		}
		id := pos[0]
		w, err := strconv.ParseFloat(e.word(d, "weight", "1"), 64)
		if err != nil {
			return err.Error()
		}
		tg := Target{ID: id, Weight: w, Ready: !slices.Contains(pos, "unready")}
		if i := slices.IndexFunc(e.targets, func(x Target) bool { return x.ID == id }); i >= 0 {
			e.targets[i] = tg
		} else {
			e.targets = append(e.targets, tg)
		}
		return ""
	case "plan":
		e.step = Plan(tier, e.count, e.rows, e.targets, e.uint(d, "max", 100))
		if e.step == nil {
			return "nothing to do"
		}
		return fmt.Sprintf("%T: %s", e.step, e.step.Detail())
	case "apply":
		if e.step == nil {
			return "no step planned"
		}
		e.rows = apply(e.rows, changeOf(e.step, e.rows))
		e.step = nil
		if err := NewMap(e.rows).Check(tier, e.count); err != nil {
			e.t.Errorf("line %d: %v", d.Line, err)
		}
		return e.ranges()
	case "fence":
		pos := d.Positional()
		if len(pos) == 0 {
			return "fence: which replicaset?"
		}
		write := slices.Contains(pos, "write")
		what, r := NewMap(e.rows).Fence(tier, e.uint(d, "bucket", 0), pos[0], write)
		switch what {
		case Serve:
			return "serve"
		case Moving:
			return "moving to " + r.Destination + ": the write waits"
		default:
			if r.ReplicasetID == "" {
				return "wrong bucket: no owner"
			}
			return "wrong bucket: " + r.ReplicasetID + " owns it"
		}
	case "ranges":
		return e.ranges()
	}
	return "unknown command " + d.Cmd
}

func (e *moveEnv) ranges() string {
	var b strings.Builder
	for _, r := range e.rows {
		fmt.Fprintf(&b, "%s\n", r)
	}
	counts := NewMap(e.rows).Counts(tier)
	var parts []string
	for _, id := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s=%d", id, counts[id]))
	}
	fmt.Fprintf(&b, "owned: %s", strings.Join(parts, " "))
	return b.String()
}

func (e *moveEnv) word(d script.Directive, key, def string) string {
	if v, ok := d.Keyed(key); ok && len(v) == 1 {
		return v[0]
	}
	return def
}

func (e *moveEnv) uint(d script.Directive, key string, def uint64) uint64 {
	n, err := strconv.ParseUint(e.word(d, key, strconv.FormatUint(def, 10)), 10, 64)
	if err != nil {
		e.t.Fatalf("line %d: %s: %v", d.Line, key, err)
	}
	return n
}
