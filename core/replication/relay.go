package replication

import (
	"fmt"

	"github.com/picogo/picogo/core/vclock"
)

// The master's side: one peer state per replica, one shipment outstanding
// at a time (stop and wait), each at most MaxBytesInFlight bytes of
// entries (at least one entry) or one copy chunk.

const (
	modeProbe  = iota // send a probe: learn where the replica is
	modeStream        // ship entries from next
	modeCopy          // ship a full copy
)

type peer struct {
	id    uint64
	mode  int
	next  uint64        // modeStream: the sig of the next entry to ship
	told  uint64        // the master's schema version its last shipment carried
	acked vclock.VClock // the replica's durable vclock, as it last answered

	seq         uint64 // the outstanding shipment's
	outstanding bool
	waited      int // ticks since the outstanding shipment left
	pause       int // ticks to wait before the next one
	inflight    int // bytes of entries (or chunk) in the outstanding one

	diverged bool          // modeCopy: because the replica diverged
	copy     *outgoingCopy // modeCopy: the copy under way
}

type outgoingCopy struct {
	id   uint64
	data []byte // encodeState
	off  uint64 // acknowledged so far
}

// lost: the outstanding shipment is given up (failed, or no answer in
// time). A copy resumes at its acknowledged offset; anything else starts
// over with a probe.
func (p *peer) lost() {
	p.outstanding, p.inflight, p.waited = false, 0, 0
	if p.mode != modeCopy {
		p.mode = modeProbe
	}
}

func (m *Member) peer(id uint64) *peer {
	for _, p := range m.peers {
		if p.id == id {
			return p
		}
	}
	return nil
}

// pump sends what can be sent: to each peer with nothing outstanding and
// no pause, a probe, the next entries (only those durable here: a replica
// never has what a crash of its master may lose) or the next copy chunk.
func (m *Member) pump() {
	if m.role.Master != m.cfg.ID {
		return
	}
	durable := m.durableLSN()
	for _, p := range m.peers {
		if p.outstanding || p.pause > 0 {
			continue
		}
		if p.mode == modeStream && p.next <= m.winBase {
			p.mode, p.diverged, p.copy = modeCopy, false, nil
		}
		switch p.mode {
		case modeProbe:
			m.send(p, message{kind: msgProbe}, 0)
		case modeStream:
			var ents [][]byte
			size := 0
			for i := p.next - m.winBase - 1; i < uint64(len(m.win)); i++ {
				w := m.win[i]
				if w.walLSN > durable || len(ents) > 0 && size+len(w.data) > m.cfg.MaxBytesInFlight {
					break
				}
				ents = append(ents, w.data)
				size += len(w.data)
			}
			switch {
			case len(ents) > 0:
				m.send(p, message{kind: msgEntries, first: p.next, entries: ents}, size)
			case p.told < m.schemaApplied:
				// Nothing to ship, but a DDL it may have deferred can
				// apply now that the master has applied it.
				m.send(p, message{kind: msgProbe}, 0)
			}
		case modeCopy:
			if p.copy == nil && !m.startCopy(p) {
				continue
			}
			c := p.copy
			end := min(c.off+uint64(m.cfg.CopyChunkBytes), uint64(len(c.data)))
			m.send(p, message{kind: msgCopy, copyID: c.id, diverged: p.diverged,
				offset: c.off, total: uint64(len(c.data)), chunk: c.data[c.off:end]}, int(end-c.off))
		}
	}
}

// startCopy takes the snapshot a full copy sends, once everything logged
// is durable (a copy, like an entry, carries only what is durable).
func (m *Member) startCopy(p *peer) bool {
	if m.durableLSN() < m.log.Last() {
		return false
	}
	m.nextCopyID++
	p.copy = &outgoingCopy{id: m.nextCopyID, data: m.stateBlob()}
	why := "behind the window"
	if p.diverged {
		why = "diverged"
	}
	m.emit(Note{Event: "full copy", Detail: fmt.Sprintf("to %d (%s, at %s): %d bytes", p.id, why, p.acked, len(p.copy.data))})
	return true
}

func (m *Member) send(p *peer, msg message, size int) {
	m.nextSeq++
	msg.seq, msg.vc, msg.schema = m.nextSeq, m.vc, m.schemaApplied
	p.told = m.schemaApplied
	p.seq, p.outstanding, p.waited, p.inflight = m.nextSeq, true, 0, size
	m.emit(Ship{To: p.id, Payload: encodeMessage(msg)})
}

// Response is the answer to a Ship to `to`, or err when the call failed
// or timed out (then the peer is retried after RetryTicks). An answer to
// any but the outstanding shipment is ignored.
func (m *Member) Response(to uint64, payload []byte, err error) {
	defer m.flush()
	p := m.peer(to)
	if p == nil || m.role.Master != m.cfg.ID || !p.outstanding {
		return
	}
	var a answer
	if err == nil {
		if a, err = decodeAnswer(payload); err != nil {
			m.emit(Note{Event: "bad answer", Detail: fmt.Sprintf("from %d: %v", to, err)})
		}
	}
	if err != nil {
		p.lost()
		p.pause = m.cfg.RetryTicks
		return
	}
	if a.seq != p.seq {
		return
	}
	p.outstanding, p.inflight, p.waited = false, 0, 0
	p.acked = a.vc
	switch a.status {
	case statusNotMaster:
		p.mode, p.pause = modeProbe, m.cfg.RetryTicks
	case statusDiverged:
		p.mode, p.diverged, p.copy = modeCopy, true, nil
	case statusCopying:
		if p.mode == modeCopy && p.copy != nil && a.copyID == p.copy.id && a.next <= uint64(len(p.copy.data)) {
			p.copy.off = a.next
		} else {
			p.mode, p.copy = modeProbe, nil
		}
	case statusSchema:
		p.pause = m.cfg.RetryTicks
		if p.mode == modeCopy {
			p.copy = nil // a newer snapshot later
			break
		}
		m.position(p, a.vc)
	default:
		m.position(p, a.vc)
	}
	m.settle()
	m.pump()
}

// position decides from a replica's durable vclock what it needs: nothing
// it has not (a vclock not <= ours: it diverged → a full copy), entries
// from Sum+1 (if the window still holds them), or else a full copy.
func (m *Member) position(p *peer, vc vclock.VClock) {
	switch {
	case !vc.LessEq(m.vc):
		if !p.diverged || p.mode != modeCopy {
			m.emit(Note{Event: "replica diverged", Detail: fmt.Sprintf("%d is at %s, not within %s", p.id, vc, m.vc)})
		}
		p.mode, p.diverged, p.copy = modeCopy, true, nil
	case vc.Sum() < m.winBase:
		p.mode, p.diverged, p.copy = modeCopy, false, nil
	default:
		p.mode, p.next, p.copy, p.diverged = modeStream, vc.Sum()+1, nil, false
	}
}
