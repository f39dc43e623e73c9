package node

import (
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/governor"
	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
)

// moveBuckets carries out a governor.MoveBuckets: a page of rows from the
// source's master, then the same rows to the destination's master, page
// after page until the source says the range is done; then the flip, a CaS
// checked against everything since the plan (the predicate reads all of
// _pico_bucket, so a range that changed meanwhile is not flipped). Each
// RPC waits for the plan's (term, index) on its receiver, which checks the
// range is still sending as planned. A failure ends the step: the next plan
// copies the range again from its first bucket.
func (m *governorModule) moveBuckets(a governor.MoveBuckets, st raft.Status, stepDone func(*api.Error)) {
	copied := 0
	done := func(err *api.Error) {
		if err != nil {
			m.stats.BucketMoveFailures++
		} else {
			m.stats.BucketsMoved += a.Range.Count()
			m.stats.BucketRowsCopied += uint64(copied)
			if m.gov.term == st.Term && m.gov.moveSizes != nil {
				m.gov.moveSizes[a.Tier] = governor.MoveSize(uint64(copied), a.Range.Count())
			}
		}
		stepDone(err)
	}
	flip := func() {
		m.emit(Note{Event: "governor", Detail: a.Step() + ": " + a.CopyDone(copied)})
		m.cas.proposeOp(tables.BatchOp(a.Flip.Ops...), a.Flip.Ranges, st.Applied, a.Step(),
			func(_ []any, err *api.Error) { done(err) }, func(ra.Reply) ([]any, *api.Error) { return nil, nil })
	}
	var page func(after uint64)
	page = func(after uint64) {
		export := a.Export
		call, _ := export.Call.(api.BucketExport)
		call.After = after
		export.Call = call
		m.rpcs([]governor.RPC{export}, st, func(answers []any, err *api.Error) {
			if err != nil {
				done(err)
				return
			}
			pg, e := api.BucketPageFrom(answers[0])
			if e != nil {
				done(api.Errorf(api.CodeProcLua, "%s: %v", call.Proc(), e))
				return
			}
			if pg.Next != 0 && (pg.Next <= max(after, a.Range.First-1) || pg.Next >= a.Range.Last) {
				// A page must advance and stay within the range: else
				// the copy would never end.
				done(api.Errorf(api.CodeProcLua, "%s: page after bucket %d ends at %d, outside %d-%d",
					call.Proc(), after, pg.Next, a.Range.First, a.Range.Last))
				return
			}
			next := func() {
				if pg.Next == 0 {
					flip()
					return
				}
				page(pg.Next)
			}
			if len(pg.Rows) == 0 {
				next()
				return
			}
			imp := a.Import
			ic, _ := imp.Call.(api.BucketImport)
			ic.Rows = pg.Rows
			imp.Call = ic
			m.rpcs([]governor.RPC{imp}, st, func(_ []any, err *api.Error) {
				if err != nil {
					done(err)
					return
				}
				copied += len(pg.Rows)
				next()
			})
		})
	}
	if m.cfg.mutants.Has(mutant.FlipBeforeCopy) {
		flip()
		return
	}
	page(0)
}
