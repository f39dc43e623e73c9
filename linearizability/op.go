// Package linearizability owns the linearizability check of picogo client
// histories (SPEC M5): the operation and outcome vocabulary of the key-value
// GLOBAL table, the [History] recorder that clients write into, the porcupine
// model of one key, and [Check], which partitions a history by key, runs
// porcupine and can write porcupine's interactive HTML ([WriteVisualization])
// when a history is not linearizable.
//
// Both the simulator (virtual time, one goroutine) and the chaos tester (real
// time, many goroutines) use it; timestamps are int64 nanoseconds of whichever
// clock the caller runs on.
//
// An operation that ends [Unknown] — or is never returned — may have taken
// effect at any single instant after its call, or never. It returns at +∞, so
// porcupine may linearize it anywhere after its call, and the model accepts it
// in every state, taking effect if it can; "never" is the same as "after every
// other operation", where nothing sees it. Gets that end Unknown say nothing
// and are dropped. Before porcupine runs, Unknown writes whose value is unique
// to their key are settled by what the history observed: a write whose value
// was read becomes Ok, one nobody could have seen is dropped. Workloads should
// therefore write unique values; the check is exact either way, only slower.
package linearizability

import "fmt"

// OpKind is what a client asked for.
type OpKind uint8

// The zero OpKind is invalid, so a forgotten kind is caught at [History.Call].
const (
	OpGet    OpKind = iota + 1 // read the key: value or absent
	OpPut                      // unconditional replace
	OpInsert                   // write only if the key is absent, else Exists
	OpCas                      // write Value only if the key holds Expect (or is absent, with ExpectAbsent)
)

func (k OpKind) String() string {
	switch k {
	case OpGet:
		return "get"
	case OpPut:
		return "put"
	case OpInsert:
		return "insert"
	case OpCas:
		return "cas"
	}
	return fmt.Sprintf("OpKind(%d)", uint8(k))
}

// Op is one client operation on one key. Value is the value written (Put,
// Insert, Cas); Expect is what Cas compares against, unless ExpectAbsent, in
// which case Cas succeeds only if the key is absent.
type Op struct {
	Kind         OpKind
	Key          string
	Value        string
	Expect       string
	ExpectAbsent bool
}

// Get reads key.
func Get(key string) Op { return Op{Kind: OpGet, Key: key} }

// Put replaces key's value with value.
func Put(key, value string) Op { return Op{Kind: OpPut, Key: key, Value: value} }

// Insert writes value if key is absent.
func Insert(key, value string) Op { return Op{Kind: OpInsert, Key: key, Value: value} }

// Cas writes value if key holds expect.
func Cas(key, expect, value string) Op {
	return Op{Kind: OpCas, Key: key, Expect: expect, Value: value}
}

// CasAbsent writes value if key is absent.
func CasAbsent(key, value string) Op {
	return Op{Kind: OpCas, Key: key, Value: value, ExpectAbsent: true}
}

// String renders the operation as the visualization shows it, e.g.
// `cas(k, "a"→"b")`.
func (o Op) String() string {
	switch o.Kind {
	case OpGet:
		return fmt.Sprintf("get(%s)", o.Key)
	case OpPut, OpInsert:
		return fmt.Sprintf("%s(%s, %q)", o.Kind, o.Key, o.Value)
	case OpCas:
		expect := "absent"
		if !o.ExpectAbsent {
			expect = fmt.Sprintf("%q", o.Expect)
		}
		return fmt.Sprintf("cas(%s, %s→%q)", o.Key, expect, o.Value)
	}
	return fmt.Sprintf("%s(%s)", o.Kind, o.Key)
}

// OutcomeKind is how an operation ended.
type OutcomeKind uint8

// The zero OutcomeKind is invalid, so a forgotten kind is caught at
// [History.Return].
const (
	// Ok: the operation took effect. For Get, Outcome.Found and
	// Outcome.Value are what it read; for Cas, the key held the expected
	// value at that moment.
	Ok OutcomeKind = iota + 1
	// Exists: an Insert found the key present and had no effect. Meaningful
	// for Insert only; for other kinds it is treated as Failed.
	Exists
	// Conflict: no effect, and nothing learned about the state (the
	// server's conflict check may have been tripped by an uncommitted write
	// that later vanished).
	Conflict
	// Failed: any other definite failure; no effect, nothing learned.
	Failed
	// Unknown: timed out or connection lost; it may or may not have taken
	// effect, at any point after its call.
	Unknown
)

func (k OutcomeKind) String() string {
	switch k {
	case Ok:
		return "ok"
	case Exists:
		return "exists"
	case Conflict:
		return "conflict"
	case Failed:
		return "failed"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("OutcomeKind(%d)", uint8(k))
}

// Outcome is how an operation ended. Value and Found matter only for a Get
// that ended Ok: Found false means the key was absent.
type Outcome struct {
	Kind  OutcomeKind
	Value string
	Found bool
}

// describe renders op and its outcome, e.g. `cas(k, "a"→"b") → conflict`.
func describe(op Op, out Outcome) string {
	res := out.Kind.String()
	if op.Kind == OpGet && out.Kind == Ok {
		res = "absent"
		if out.Found {
			res = fmt.Sprintf("%q", out.Value)
		}
	}
	return op.String() + " → " + res
}
