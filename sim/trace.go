package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// trace is the readable record of a run: one line per event worth reading,
// stamped with virtual time. Every line feeds a hash, so two runs of one
// seed can be compared by their trace-hash even without writing the trace.
type trace struct {
	w     io.Writer // nil: hash only
	h     hash.Hash
	lines uint64
	now   func() int64
	line  []byte // the line being written, reused
}

func newTrace(w io.Writer, now func() int64) *trace {
	return &trace{w: w, h: sha256.New(), now: now}
}

func (t *trace) printf(format string, a ...any) {
	ns := t.now()
	t.line = fmt.Appendf(t.line[:0], "%6d.%06d ", ns/1e9, ns%1e9/1e3)
	t.line = append(fmt.Appendf(t.line, format, a...), '\n')
	t.lines++
	t.h.Write(t.line)
	if t.w != nil {
		t.w.Write(t.line)
	}
}

// sum is the trace-hash.
func (t *trace) sum() string { return hex.EncodeToString(t.h.Sum(nil)) }
