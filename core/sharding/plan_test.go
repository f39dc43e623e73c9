package sharding

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/picogo/picogo/core/tables"
)

const tier = "storage"

func active(first, last uint64, rs string) tables.BucketRange {
	return tables.BucketRange{Tier: tier, First: first, Last: last, ReplicasetID: rs, State: tables.BucketActive}
}

func sending(first, last uint64, rs, to string) tables.BucketRange {
	r := active(first, last, rs)
	r.State, r.Destination = tables.BucketSending, to
	return r
}

func garbage(r tables.BucketRange, on string) tables.BucketRange {
	r.Garbage = on
	return r
}

func ready(ids ...string) []Target {
	var ts []Target
	for _, id := range ids {
		ts = append(ts, Target{ID: id, Weight: 1, Ready: true})
	}
	return ts
}

// apply is what the governor's CaS does with a Change: delete rows by key,
// then put whole rows (replacing a row with the same key). Rows come back by
// First.
func apply(rows []tables.BucketRange, ch Change) []tables.BucketRange {
	type key struct {
		tier  string
		first uint64
	}
	byKey := map[key]tables.BucketRange{}
	for _, r := range rows {
		byKey[key{r.Tier, r.First}] = r
	}
	for _, r := range ch.Delete {
		delete(byKey, key{r.Tier, r.First})
	}
	for _, r := range ch.Put {
		byKey[key{r.Tier, r.First}] = r
	}
	out := slices.Collect(maps.Values(byKey))
	slices.SortFunc(out, func(a, b tables.BucketRange) int {
		return cmp.Or(cmp.Compare(a.Tier, b.Tier), cmp.Compare(a.First, b.First))
	})
	return out
}

// checkRows asserts the invariants every Change keeps: the tier's ranges are
// a partition of 1..count, at most one of them is sending, and every row is
// well formed.
func checkRows(t *testing.T, rows []tables.BucketRange, count uint64) {
	t.Helper()
	if err := NewMap(rows).Check(tier, count); err != nil {
		t.Fatalf("%v\nrows:\n%s", err, dump(rows))
	}
	var nsending int
	for _, r := range rows {
		switch {
		case r.First > r.Last:
			t.Fatalf("empty row %v", r)
		case r.State == tables.BucketSending:
			nsending++
			if r.Destination == "" || r.Destination == r.ReplicasetID {
				t.Fatalf("sending row with destination %q: %v", r.Destination, r)
			}
		case r.State == tables.BucketActive:
			if r.Destination != "" {
				t.Fatalf("active row with a destination: %v", r)
			}
		default:
			t.Fatalf("row in state %q: %v", r.State, r)
		}
	}
	if nsending > 1 {
		t.Fatalf("%d sending rows:\n%s", nsending, dump(rows))
	}
}

func dump(rows []tables.BucketRange) string {
	var s string
	for _, r := range rows {
		s += "  " + r.String() + "\n"
	}
	return s
}

func TestGoal(t *testing.T) {
	for _, c := range []struct {
		name    string
		count   uint64
		targets []Target
		want    map[string]uint64
	}{
		{"two equal", 3000, ready("r1", "r2"), map[string]uint64{"r1": 1500, "r2": 1500}},
		{"three equal", 3000, ready("r1", "r2", "r3"), map[string]uint64{"r1": 1000, "r2": 1000, "r3": 1000}},
		{"weights 1 and 2", 3000, []Target{{"r1", 1, true}, {"r2", 2, true}}, map[string]uint64{"r1": 1000, "r2": 2000}},
		{"weights 0.1 and 0.3", 3000, []Target{{"r1", 0.1, true}, {"r2", 0.3, true}}, map[string]uint64{"r1": 750, "r2": 2250}},
		{"remainders to the smaller IDs", 10, ready("r3", "r1", "r2"), map[string]uint64{"r1": 4, "r2": 3, "r3": 3}},
		{"remainder to the largest one", 10, []Target{{"a", 1, true}, {"b", 1.5, true}, {"c", 1.5, true}},
			// 2.5, 3.75, 3.75: floors 2+3+3, two left for b and c (.75 > .5).
			map[string]uint64{"a": 2, "b": 4, "c": 4}},
		{"fewer buckets than targets", 2, ready("r1", "r2", "r3"), map[string]uint64{"r1": 1, "r2": 1, "r3": 0}},
		{"zero weight gets 0", 3000, []Target{{"r1", 1, true}, {"r2", 0, true}, {"r3", 1, true}},
			map[string]uint64{"r1": 1500, "r2": 0, "r3": 1500}},
		{"negative weight counts as 0", 3000, []Target{{"r1", 1, true}, {"r2", -1, true}},
			map[string]uint64{"r1": 3000, "r2": 0}},
		{"not ready gets 0", 3000, []Target{{"r1", 1, true}, {"r2", 1, false}},
			map[string]uint64{"r1": 3000, "r2": 0}},
		{"no bucket", 0, ready("r1"), map[string]uint64{"r1": 0}},
		{"no targets", 3000, nil, nil},
		{"none ready", 3000, []Target{{"r1", 1, false}}, nil},
		{"all zero weight", 3000, []Target{{"r1", 0, true}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Goal(c.count, c.targets)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Goal(%d, %v) = %v, want %v", c.count, c.targets, got, c.want)
			}
			if got != nil {
				var sum uint64
				for _, n := range got {
					sum += n
				}
				if sum != c.count {
					t.Fatalf("goals sum to %d, not %d", sum, c.count)
				}
			}
			// The order of targets does not matter.
			rev := slices.Clone(c.targets)
			slices.Reverse(rev)
			if again := Goal(c.count, rev); !reflect.DeepEqual(again, got) {
				t.Fatalf("reversed targets: %v, want %v", again, got)
			}
		})
	}
}

func TestBootstrap(t *testing.T) {
	for _, c := range []struct {
		name    string
		count   uint64
		targets []Target
		want    []tables.BucketRange
	}{
		{"two", 3000, ready("r2", "r1"), []tables.BucketRange{active(1, 1500, "r1"), active(1501, 3000, "r2")}},
		{"weighted, skips unready and zero", 3000,
			[]Target{{"r1", 1, true}, {"r2", 1, false}, {"r3", 0, true}, {"r4", 2, true}},
			[]tables.BucketRange{active(1, 1000, "r1"), active(1001, 3000, "r4")}},
		{"one", 10, ready("r1"), []tables.BucketRange{active(1, 10, "r1")}},
		{"nobody", 3000, []Target{{"r1", 1, false}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Bootstrap(tier, c.count, c.targets)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Bootstrap = \n%s, want\n%s", dump(got), dump(c.want))
			}
			if got != nil {
				checkRows(t, got, c.count)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	two := []tables.BucketRange{active(1, 1500, "r1"), active(1501, 3000, "r2")}
	for _, c := range []struct {
		name    string
		ranges  []tables.BucketRange
		targets []Target
		maxMove uint64
		want    Step
		detail  string
	}{
		{name: "not bootstrapped", ranges: nil, targets: ready("r1"), maxMove: 100, want: nil},
		{name: "balanced", ranges: two, targets: ready("r1", "r2"), maxMove: 100, want: nil},
		{name: "rows of another tier are ignored",
			ranges:  append(slices.Clone(two), tables.BucketRange{Tier: "other", First: 1, Last: 10, ReplicasetID: "r9", State: tables.BucketActive, Garbage: "r8"}),
			targets: ready("r1", "r2"), maxMove: 100, want: nil},
		{name: "nobody may own buckets", ranges: two, targets: []Target{{"r1", 1, false}, {"r2", 0, true}}, maxMove: 100, want: nil},
		{name: "collect the first garbage",
			ranges:  []tables.BucketRange{active(1, 1400, "r1"), garbage(active(1401, 1500, "r3"), "r1"), garbage(active(1501, 1600, "r2"), "r3"), active(1601, 3000, "r2")},
			targets: ready("r1", "r2", "r3"), maxMove: 100,
			want:   Collect{Range: garbage(active(1401, 1500, "r3"), "r1")},
			detail: "collect storage 1401-1500 on r1"},
		{name: "forget garbage on a gone replicaset",
			ranges:  []tables.BucketRange{active(1, 1400, "r1"), garbage(active(1401, 1500, "r1"), "r3"), active(1501, 3000, "r2")},
			targets: ready("r1", "r2"), maxMove: 100,
			want:   Collect{Range: garbage(active(1401, 1500, "r1"), "r3"), Forget: true},
			detail: "forget garbage of storage 1401-1500 on r3 (gone)"},
		{name: "garbage before sending",
			ranges:  []tables.BucketRange{active(1, 1400, "r1"), sending(1401, 1500, "r1", "r3"), garbage(active(1501, 3000, "r2"), "r1")},
			targets: ready("r1", "r2", "r3"), maxMove: 100,
			want:   Collect{Range: garbage(active(1501, 3000, "r2"), "r1")},
			detail: "collect storage 1501-3000 on r1"},
		{name: "garbage on a not ready replicaset is still collected",
			ranges:  []tables.BucketRange{active(1, 1400, "r1"), garbage(active(1401, 1500, "r1"), "r3"), active(1501, 3000, "r2")},
			targets: []Target{{"r1", 1, true}, {"r2", 1, true}, {"r3", 0, false}}, maxMove: 100,
			want:   Collect{Range: garbage(active(1401, 1500, "r1"), "r3")},
			detail: "collect storage 1401-1500 on r3"},
		{name: "copy a sending range",
			ranges:  []tables.BucketRange{active(1, 1400, "r1"), sending(1401, 1500, "r1", "r3"), active(1501, 3000, "r2")},
			targets: ready("r1", "r2", "r3"), maxMove: 100,
			want:   Copy{Range: sending(1401, 1500, "r1", "r3")},
			detail: "copy storage 1401-1500 r1 -> r3"},
		{name: "roll back: destination drained",
			ranges:  []tables.BucketRange{active(1, 1400, "r1"), sending(1401, 1500, "r1", "r3"), active(1501, 3000, "r2")},
			targets: []Target{{"r1", 1, true}, {"r2", 1, true}, {"r3", 0, true}}, maxMove: 100,
			want:   Rollback{Range: sending(1401, 1500, "r1", "r3")},
			detail: "roll back storage 1401-1500 to r1 (not to r3)"},
		{name: "roll back: destination not ready",
			ranges:  []tables.BucketRange{active(1, 1400, "r1"), sending(1401, 1500, "r1", "r3"), active(1501, 3000, "r2")},
			targets: []Target{{"r1", 1, true}, {"r2", 1, true}, {"r3", 1, false}}, maxMove: 100,
			want: Rollback{Range: sending(1401, 1500, "r1", "r3")}},
		{name: "roll back: destination gone",
			ranges:  []tables.BucketRange{active(1, 1400, "r1"), sending(1401, 1500, "r1", "r3"), active(1501, 3000, "r2")},
			targets: ready("r1", "r2"), maxMove: 100,
			want: Rollback{Range: sending(1401, 1500, "r1", "r3")}},
		{name: "several sending: the first",
			ranges:  []tables.BucketRange{active(1, 1400, "r1"), sending(1401, 1500, "r1", "r3"), sending(1501, 3000, "r2", "r3")},
			targets: ready("r1", "r2", "r3"), maxMove: 100,
			want: Copy{Range: sending(1401, 1500, "r1", "r3")}},
		{name: "new replicaset: send from the smaller ID on a tie",
			ranges: two, targets: ready("r1", "r2", "r3"), maxMove: 100,
			want:   Send{Range: active(1, 1500, "r1"), N: 100, To: "r3"},
			detail: "move storage 1401-1500 from r1 to r3"},
		{name: "source: the largest excess",
			ranges: []tables.BucketRange{active(1, 1400, "r1"), active(1401, 1500, "r3"), active(1501, 3000, "r2")}, targets: ready("r1", "r2", "r3"), maxMove: 100,
			want:   Send{Range: active(1501, 3000, "r2"), N: 100, To: "r3"},
			detail: "move storage 2901-3000 from r2 to r3"},
		{name: "destination: the largest deficit, then the smaller ID",
			ranges: []tables.BucketRange{active(1, 3000, "r1")}, targets: ready("r1", "r3", "r2"), maxMove: 100,
			want: Send{Range: active(1, 3000, "r1"), N: 100, To: "r2"}},
		{name: "destination: the owner right after the source range if it is short",
			ranges:  []tables.BucketRange{active(1, 1000, "r1"), active(1001, 1500, "r3"), active(1501, 2500, "r2"), active(2501, 3000, "r3")},
			targets: []Target{{"r1", 1, true}, {"r2", 0, true}, {"r3", 1, true}}, maxMove: 100,
			want:   Send{Range: active(1501, 2500, "r2"), N: 100, To: "r3"},
			detail: "move storage 2401-2500 from r2 to r3"},
		{name: "destination: the owner right after is not short",
			ranges:  []tables.BucketRange{active(1, 1200, "r2"), active(1201, 2200, "r1"), active(2201, 3000, "r3")},
			targets: ready("r1", "r2", "r3"), maxMove: 1000,
			want: Send{Range: active(1, 1200, "r2"), N: 200, To: "r3"}},
		{name: "source range: the one with the largest First",
			ranges:  []tables.BucketRange{active(1, 1000, "r1"), active(1001, 1500, "r2"), active(1501, 2500, "r1"), active(2501, 3000, "r2")},
			targets: []Target{{"r1", 1, true}, {"r2", 2, true}}, maxMove: 100,
			want: Send{Range: active(1501, 2500, "r1"), N: 100, To: "r2"}},
		{name: "N bounded by the excess",
			ranges: []tables.BucketRange{active(1, 1510, "r1"), active(1511, 3000, "r2")}, targets: ready("r1", "r2"), maxMove: 100,
			want: Send{Range: active(1, 1510, "r1"), N: 10, To: "r2"}},
		{name: "N bounded by the deficit",
			ranges: []tables.BucketRange{active(1, 1000, "r1"), active(1001, 2000, "r2"), active(2001, 2995, "r3"), active(2996, 3000, "r1")}, targets: ready("r1", "r2", "r3"), maxMove: 100,
			want: Send{Range: active(2996, 3000, "r1"), N: 5, To: "r3"}},
		{name: "N bounded by the source range",
			ranges: []tables.BucketRange{active(1, 1600, "r1"), active(1601, 1620, "r2"), active(1621, 1640, "r1"), active(1641, 3000, "r2")}, targets: ready("r1", "r2"), maxMove: 1000,
			want: Send{Range: active(1621, 1640, "r1"), N: 20, To: "r2"}},
		{name: "N bounded by maxMove",
			ranges: []tables.BucketRange{active(1, 1500, "r1"), active(1501, 1520, "r2"), active(1521, 1540, "r1"), active(1541, 3000, "r2")}, targets: []Target{{"r1", 1, true}, {"r2", 0, true}}, maxMove: 1000,
			want: Send{Range: active(1541, 3000, "r2"), N: 1000, To: "r1"}},
		{name: "N: the whole source range",
			ranges: []tables.BucketRange{active(1, 1400, "r1"), active(1401, 1500, "r2"), active(1501, 3000, "r1")}, targets: []Target{{"r1", 1, true}, {"r2", 1, true}}, maxMove: 3000,
			want: Send{Range: active(1501, 3000, "r1"), N: 1400, To: "r2"}},
		{name: "N: only as much as the source range has",
			ranges: []tables.BucketRange{active(1, 2990, "r1"), active(2991, 3000, "r1")}, targets: []Target{{"r1", 0, true}, {"r2", 1, true}}, maxMove: 3000,
			want: Send{Range: active(2991, 3000, "r1"), N: 10, To: "r2"}},
		{name: "maxMove 0 counts as 1",
			ranges: two, targets: ready("r1", "r2", "r3"), maxMove: 0,
			want: Send{Range: active(1, 1500, "r1"), N: 1, To: "r3"}},
		{name: "drain",
			ranges: two, targets: []Target{{"r1", 0, true}, {"r2", 1, true}}, maxMove: 100,
			want: Send{Range: active(1, 1500, "r1"), N: 100, To: "r2"}},
		{name: "an owner absent from targets is emptied",
			ranges: two, targets: ready("r2", "r3"), maxMove: 2000,
			want:   Send{Range: active(1, 1500, "r1"), N: 1500, To: "r3"},
			detail: "move storage 1-1500 from r1 to r3"},
		{name: "an owner absent from targets, nobody short",
			ranges: []tables.BucketRange{active(1, 1500, "r1"), active(1501, 3000, "r2")}, targets: []Target{{"r2", 1, true}, {"r3", 1, false}}, maxMove: 100,
			want: Send{Range: active(1, 1500, "r1"), N: 100, To: "r2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Plan(tier, 3000, c.ranges, c.targets, c.maxMove)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Plan = %#v, want %#v", got, c.want)
			}
			if got != nil && c.detail != "" && got.Detail() != c.detail {
				t.Fatalf("Detail = %q, want %q", got.Detail(), c.detail)
			}
			// Whatever it is, the step keeps the invariants.
			if got != nil {
				if err := NewMap(c.ranges).Check(tier, 3000); err != nil {
					t.Fatalf("bad case: %v", err)
				}
				rows := apply(c.ranges, changeOf(got, c.ranges))
				if err := NewMap(rows).Check(tier, 3000); err != nil {
					t.Fatalf("after %s: %v\n%s", got.Detail(), err, dump(rows))
				}
			}
		})
	}
}

// changeOf is the Change a step ends with (Copy: after copying; Collect:
// after deleting).
func changeOf(s Step, ranges []tables.BucketRange) Change {
	switch s := s.(type) {
	case Send:
		return s.Change()
	case Copy:
		return s.Flip()
	case Rollback:
		return s.Change()
	case Collect:
		return s.Done(ranges)
	}
	panic(fmt.Sprintf("step %T", s))
}

func TestChanges(t *testing.T) {
	for _, c := range []struct {
		name   string
		rows   []tables.BucketRange
		change func(rows []tables.BucketRange) Change
		want   Change
		after  []tables.BucketRange
	}{
		{name: "send a tail",
			rows: []tables.BucketRange{active(1, 1500, "r1"), active(1501, 3000, "r2")},
			change: func([]tables.BucketRange) Change {
				return Send{Range: active(1, 1500, "r1"), N: 100, To: "r3"}.Change()
			},
			want:  Change{Put: []tables.BucketRange{active(1, 1400, "r1"), sending(1401, 1500, "r1", "r3")}},
			after: []tables.BucketRange{active(1, 1400, "r1"), sending(1401, 1500, "r1", "r3"), active(1501, 3000, "r2")}},
		{name: "send a whole range",
			rows: []tables.BucketRange{active(1, 1500, "r1"), active(1501, 3000, "r2")},
			change: func([]tables.BucketRange) Change {
				return Send{Range: active(1501, 3000, "r2"), N: 1500, To: "r1"}.Change()
			},
			want:  Change{Put: []tables.BucketRange{sending(1501, 3000, "r2", "r1")}},
			after: []tables.BucketRange{active(1, 1500, "r1"), sending(1501, 3000, "r2", "r1")}},
		{name: "send a single bucket",
			rows:   []tables.BucketRange{active(1, 3000, "r1")},
			change: func([]tables.BucketRange) Change { return Send{Range: active(1, 3000, "r1"), N: 1, To: "r2"}.Change() },
			want:   Change{Put: []tables.BucketRange{active(1, 2999, "r1"), sending(3000, 3000, "r1", "r2")}},
			after:  []tables.BucketRange{active(1, 2999, "r1"), sending(3000, 3000, "r1", "r2")}},
		{name: "flip",
			rows:   []tables.BucketRange{active(1, 1400, "r1"), sending(1401, 1500, "r1", "r3"), active(1501, 3000, "r2")},
			change: func([]tables.BucketRange) Change { return Copy{Range: sending(1401, 1500, "r1", "r3")}.Flip() },
			want:   Change{Put: []tables.BucketRange{garbage(active(1401, 1500, "r3"), "r1")}},
			after:  []tables.BucketRange{active(1, 1400, "r1"), garbage(active(1401, 1500, "r3"), "r1"), active(1501, 3000, "r2")}},
		{name: "roll back",
			rows:   []tables.BucketRange{active(1, 1400, "r1"), sending(1401, 1500, "r1", "r3"), active(1501, 3000, "r2")},
			change: func([]tables.BucketRange) Change { return Rollback{Range: sending(1401, 1500, "r1", "r3")}.Change() },
			want:   Change{Put: []tables.BucketRange{garbage(active(1401, 1500, "r1"), "r3")}},
			after:  []tables.BucketRange{active(1, 1400, "r1"), garbage(active(1401, 1500, "r1"), "r3"), active(1501, 3000, "r2")}},
		{name: "collect, no neighbour of the same owner",
			rows:   []tables.BucketRange{active(1, 1400, "r1"), garbage(active(1401, 1500, "r3"), "r1"), active(1501, 3000, "r2")},
			change: Collect{Range: garbage(active(1401, 1500, "r3"), "r1")}.Done,
			want:   Change{Put: []tables.BucketRange{active(1401, 1500, "r3")}},
			after:  []tables.BucketRange{active(1, 1400, "r1"), active(1401, 1500, "r3"), active(1501, 3000, "r2")}},
		{name: "collect merges into prev",
			rows:   []tables.BucketRange{active(1, 1300, "r1"), active(1301, 1400, "r3"), garbage(active(1401, 1500, "r3"), "r1"), active(1501, 3000, "r2")},
			change: Collect{Range: garbage(active(1401, 1500, "r3"), "r1")}.Done,
			want:   Change{Delete: []tables.BucketRange{garbage(active(1401, 1500, "r3"), "r1")}, Put: []tables.BucketRange{active(1301, 1500, "r3")}},
			after:  []tables.BucketRange{active(1, 1300, "r1"), active(1301, 1500, "r3"), active(1501, 3000, "r2")}},
		{name: "collect merges next",
			rows:   []tables.BucketRange{active(1, 1300, "r1"), garbage(active(1301, 1400, "r3"), "r1"), active(1401, 1500, "r3"), active(1501, 3000, "r2")},
			change: Collect{Range: garbage(active(1301, 1400, "r3"), "r1")}.Done,
			want:   Change{Delete: []tables.BucketRange{active(1401, 1500, "r3")}, Put: []tables.BucketRange{active(1301, 1500, "r3")}},
			after:  []tables.BucketRange{active(1, 1300, "r1"), active(1301, 1500, "r3"), active(1501, 3000, "r2")}},
		{name: "collect merges both",
			rows:   []tables.BucketRange{active(1, 1000, "r1"), garbage(active(1001, 1100, "r1"), "r3"), active(1101, 3000, "r1")},
			change: Collect{Range: garbage(active(1001, 1100, "r1"), "r3"), Forget: true}.Done,
			want: Change{
				Delete: []tables.BucketRange{garbage(active(1001, 1100, "r1"), "r3"), active(1101, 3000, "r1")},
				Put:    []tables.BucketRange{active(1, 3000, "r1")}},
			after: []tables.BucketRange{active(1, 3000, "r1")}},
		{name: "collect does not merge with sending or garbage neighbours",
			rows:   []tables.BucketRange{garbage(active(1, 1000, "r1"), "r2"), garbage(active(1001, 1100, "r1"), "r3"), sending(1101, 3000, "r1", "r2")},
			change: Collect{Range: garbage(active(1001, 1100, "r1"), "r3")}.Done,
			want:   Change{Put: []tables.BucketRange{active(1001, 1100, "r1")}},
			after:  []tables.BucketRange{garbage(active(1, 1000, "r1"), "r2"), active(1001, 1100, "r1"), sending(1101, 3000, "r1", "r2")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkRows(t, c.rows, 3000)
			got := c.change(c.rows)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Change = %+v, want %+v", got, c.want)
			}
			after := apply(c.rows, got)
			checkRows(t, after, 3000)
			if !reflect.DeepEqual(after, c.after) {
				t.Fatalf("after:\n%swant\n%s", dump(after), dump(c.after))
			}
		})
	}
}

// converge applies Plan's steps (Send, then Copy's Flip, then Collect's
// Done, or a Rollback) until Plan returns nil, checking the invariants after
// every change. It returns the rows and the number of moves (Sends).
func converge(t *testing.T, rows []tables.BucketRange, count uint64, targets []Target, maxMove uint64) ([]tables.BucketRange, int) {
	t.Helper()
	var moves int
	for i := 0; ; i++ {
		if i == 10000 {
			t.Fatalf("no convergence after %d steps:\n%s", i, dump(rows))
		}
		s := Plan(tier, count, rows, targets, maxMove)
		if s == nil {
			return rows, moves
		}
		rev := slices.Clone(rows)
		slices.Reverse(rev)
		if again := Plan(tier, count, rev, targets, maxMove); !reflect.DeepEqual(again, s) {
			t.Fatalf("Plan depends on the order of rows: %v, then %v", s, again)
		}
		if _, ok := s.(Send); ok {
			moves++
		}
		rows = apply(rows, changeOf(s, rows))
		checkRows(t, rows, count)
	}
}

func TestConverge(t *testing.T) {
	const count = 3000
	for _, maxMove := range []uint64{1, 7, 100, 3000} {
		t.Run(fmt.Sprintf("maxMove %d", maxMove), func(t *testing.T) {
			two := []Target{{"r1", 1, true}, {"r2", 1, true}}
			rows := Bootstrap(tier, count, two)
			checkRows(t, rows, count)
			if s := Plan(tier, count, rows, two, maxMove); s != nil {
				t.Fatalf("just bootstrapped, Plan = %s", s.Detail())
			}

			// A third replicaset joins.
			three := append(slices.Clone(two), Target{"r3", 1, true})
			rows, moves := converge(t, rows, count, three, maxMove)
			assertGoal(t, rows, count, three)
			if len(rows) > 6 {
				t.Fatalf("%d rows after rebalancing:\n%s", len(rows), dump(rows))
			}
			if min := int((1000 + maxMove - 1) / maxMove); moves < min {
				t.Fatalf("%d moves, fewer than %d", moves, min)
			}
			t.Logf("join: %d moves, %d rows", moves, len(rows))

			// r2 is drained.
			three[1].Weight = 0
			rows, moves = converge(t, rows, count, three, maxMove)
			assertGoal(t, rows, count, three)
			if n := NewMap(rows).Counts(tier)["r2"]; n != 0 {
				t.Fatalf("drained r2 owns %d buckets", n)
			}
			if len(rows) > 6 {
				t.Fatalf("%d rows after draining:\n%s", len(rows), dump(rows))
			}
			t.Logf("drain: %d moves, %d rows", moves, len(rows))

			// r2 leaves the tier; a fourth, not yet ready, changes nothing.
			four := []Target{three[0], three[2], {"r4", 1, false}}
			if s := Plan(tier, count, rows, four, maxMove); s != nil {
				t.Fatalf("Plan = %s", s.Detail())
			}
		})
	}
}

func TestConvergeRollsBack(t *testing.T) {
	const count = 3000
	three := ready("r1", "r2", "r3")
	rows := Bootstrap(tier, count, three[:2])
	// A move to r3 starts, then r3 becomes unready before the copy.
	s := Plan(tier, count, rows, three, 100)
	rows = apply(rows, s.(Send).Change())
	checkRows(t, rows, count)
	three[2].Ready = false
	rb, ok := Plan(tier, count, rows, three, 100).(Rollback)
	if !ok {
		t.Fatalf("want a Rollback")
	}
	rows = apply(rows, rb.Change())
	checkRows(t, rows, count)
	c, ok := Plan(tier, count, rows, three, 100).(Collect)
	if !ok || c.Forget || c.Range.Garbage != "r3" {
		t.Fatalf("want a Collect on r3, got %#v", c)
	}
	rows = apply(rows, c.Done(rows))
	want := Bootstrap(tier, count, three[:2])
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("after the rollback:\n%swant\n%s", dump(rows), dump(want))
	}
	if s := Plan(tier, count, rows, three, 100); s != nil {
		t.Fatalf("Plan = %s", s.Detail())
	}
}

func assertGoal(t *testing.T, rows []tables.BucketRange, count uint64, targets []Target) {
	t.Helper()
	goal := Goal(count, targets)
	have := NewMap(rows).Counts(tier)
	for _, id := range slices.Sorted(maps.Keys(goal)) {
		if have[id] != goal[id] {
			t.Fatalf("%s owns %d buckets, goal %d\n%s", id, have[id], goal[id], dump(rows))
		}
	}
	for _, r := range rows {
		if r.State != tables.BucketActive || r.Garbage != "" {
			t.Fatalf("converged with %v", r)
		}
	}
}

// TestTargets: a tier's replicasets, sorted, ready when their state is;
// one whose members are all expelled (or being expelled) is gone, so that
// Plan forgets the garbage a move left on it rather than wait for ever for
// someone to delete it (simulator seed 264, docs/BENCHMARKS.md step 16).
func TestTargets(t *testing.T) {
	online := tables.Grade{Variant: tables.GradeOnline, Incarnation: 1}
	expelled := tables.Grade{Variant: tables.GradeExpelled, Incarnation: 1}
	top := tables.Topology{
		Replicasets: []tables.Replicaset{
			{ReplicasetID: "r3", Tier: tier, Weight: 1, State: tables.ReplicasetReady},
			{ReplicasetID: "r1", Tier: tier, Weight: 2, State: tables.ReplicasetReady},
			{ReplicasetID: "r2", Tier: tier, Weight: 1, State: "not-ready"},
			{ReplicasetID: "r4", Tier: tier, Weight: 1, State: tables.ReplicasetReady},
			{ReplicasetID: "x1", Tier: "router", Weight: 1, State: tables.ReplicasetReady},
		},
		Instances: []tables.Instance{
			{InstanceID: "a", ReplicasetID: "r1", Current: online, Target: online},
			{InstanceID: "b", ReplicasetID: "r2", Current: online, Target: online},
			{InstanceID: "c", ReplicasetID: "r3", Current: expelled, Target: expelled},
			{InstanceID: "d", ReplicasetID: "r3", Current: online, Target: expelled},
			{InstanceID: "e", ReplicasetID: "r4", Current: online, Target: online},
			{InstanceID: "f", ReplicasetID: "x1", Current: online, Target: online},
		},
	}
	want := []Target{{ID: "r1", Weight: 2, Ready: true}, {ID: "r2", Weight: 1}, {ID: "r4", Weight: 1, Ready: true}}
	if got := Targets(top, tier); !reflect.DeepEqual(got, want) {
		t.Fatalf("Targets = %+v, want %+v", got, want)
	}
	step := Plan(tier, 3000, []tables.BucketRange{active(1, 1400, "r1"), garbage(active(1401, 1500, "r1"), "r3"), active(1501, 3000, "r4")}, want, 100)
	if c, ok := step.(Collect); !ok || !c.Forget {
		t.Fatalf("garbage on r3, gone: %#v, want a Collect that forgets it", step)
	}
}
