package linearizability

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"
)

// Verdict is the result of a check.
type Verdict string

const (
	VerdictOk      Verdict = Verdict(porcupine.Ok)      // linearizable
	VerdictIllegal Verdict = Verdict(porcupine.Illegal) // not linearizable
	VerdictUnknown Verdict = Verdict(porcupine.Unknown) // the check timed out
)

// Result is the outcome of [Check].
type Result struct {
	Verdict Verdict
	Ops     int    // operations checked, after dropping Unknown Gets and settled Unknown writes
	Keys    int    // partitions checked
	Failing string // if Illegal: the first key, in sorted order, with no linearization
	// Info is porcupine's record of the (partial) linearizations, for
	// [WriteVisualization].
	Info porcupine.LinearizationInfo
}

func (r Result) String() string {
	s := fmt.Sprintf("linearizability %s: ops=%d keys=%d", r.Verdict, r.Ops, r.Keys)
	if r.Verdict == VerdictIllegal {
		s += fmt.Sprintf(" failing=%q", r.Failing)
	}
	return s
}

// Check checks h for linearizability, key by key. timeout bounds the wall
// time porcupine may take (0: no limit); a check cut short is VerdictUnknown.
// The timeout reads the wall clock, so a check near the limit is not
// deterministic: keep histories small enough to finish far from it.
//
// Gets that ended Unknown are dropped, and Unknown writes with a value unique
// to their key are settled by what the rest of the history observed before
// porcupine runs (see the package doc); neither changes the verdict.
//
// If some key is illegal while others were cut short by the timeout, Failing
// is the first key with no complete linearization, which may be one of those
// cut short.
func Check(h *History, timeout time.Duration) Result {
	return checkRecords(settle(h.snapshot()), timeout)
}

func checkRecords(recs []record, timeout time.Duration) Result {
	ops := make([]porcupine.Operation, 0, len(recs))
	for _, r := range recs {
		if r.op.Kind == OpGet && r.out.Kind == Unknown {
			continue
		}
		meta := fmt.Sprintf("client %d, op #%d", r.client, r.id)
		if r.note != "" {
			meta += "; " + r.note
		}
		ops = append(ops, porcupine.Operation{
			ClientId: r.client,
			Input:    r.op,
			Call:     r.call,
			Output:   r.out,
			Return:   r.ret,
			Metadata: meta,
		})
	}
	keys, parts := partition(ops)
	verdict, info := porcupine.CheckOperationsVerbose(keyModel, ops, timeout)
	res := Result{Verdict: Verdict(verdict), Ops: len(ops), Keys: len(keys), Info: info}
	if res.Verdict == VerdictIllegal {
		// A linearizable partition's longest linearization holds all its
		// operations; an illegal one's never does.
		for i, partials := range info.PartialLinearizations() {
			if !slices.ContainsFunc(partials, func(p []int) bool { return len(p) == len(parts[i]) }) {
				res.Failing = keys[i]
				break
			}
		}
	}
	return res
}

// WriteVisualization writes porcupine's interactive HTML view of res's
// history and (partial) linearizations to path: one tab per key, with the
// point where the failing key could not be linearized marked.
func WriteVisualization(res Result, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = porcupine.Visualize(keyModel, res.Info, f)
	return errors.Join(err, f.Close())
}
