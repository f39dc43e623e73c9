package replication

import (
	"bytes"
	"fmt"
)

// The replica's side: Receive takes a shipment from the master.

// Receive takes a shipment from instance `from` and answers it (Answer,
// ID id) once what it applied is durable. Only Role.Master's shipments
// are taken; entries only where they continue the applied log exactly
// (duplicates are skipped); an entry of a newer schema version than this
// member's waits.
func (m *Member) Receive(id ReqID, from uint64, payload []byte) {
	defer m.flush()
	msg, err := decodeMessage(payload)
	if err != nil {
		m.emit(Note{Event: "bad shipment", Detail: fmt.Sprintf("from %d: %v", from, err)})
		m.answerNow(id, msg.seq, statusNotMaster)
		return
	}
	if from != m.role.Master || from == m.cfg.ID || from == m.promotedOver || from == m.fenced {
		m.answerNow(id, msg.seq, statusNotMaster)
		return
	}
	m.seen, m.seenSchema = msg.vc, msg.schema
	// Concurrent clocks cannot come of a delayed shipment (that one is
	// behind ours): this member has what its master never saw.
	if !m.vc.LessEq(msg.vc) && !msg.vc.LessEq(m.vc) {
		m.markStale(fmt.Sprintf("at %s, the master %d at %s", m.vc, from, msg.vc))
	}
	if msg.kind == msgCopy {
		m.receiveCopy(id, from, msg)
		return
	}
	status := statusDiverged
	if !m.stale {
		status = statusOK
		if msg.kind == msgEntries {
			status = m.receiveEntries(msg)
		}
		m.applyReadyDDL()
		if m.stale {
			status = statusDiverged // a deferred DDL did not apply
		}
	}
	m.answers = append(m.answers, pendingAnswer{id: id, walLSN: m.log.Last(), seq: msg.seq, status: status})
	m.maybeCheckpoint()
	m.settle()
}

func (m *Member) receiveEntries(msg message) byte {
	pos := m.vc.Sum()
	for i, raw := range msg.entries {
		sig := msg.first + uint64(i)
		if sig <= pos {
			continue // a duplicate: applied already
		}
		if sig != pos+1 {
			break // a gap: the answer repositions the master
		}
		e, err := decodeEntry(raw)
		if err != nil {
			m.emit(Note{Event: "bad entry", Detail: err.Error()})
			break
		}
		if e.schema > m.schemaVersion() {
			return statusSchema
		}
		if !m.applyDDLUpTo(e.schema) {
			return statusDiverged
		}
		rows, err := m.applyEntry(e)
		if err != nil {
			m.markStale(fmt.Sprintf("the entry at %d does not apply: %v", sig, err))
			return statusDiverged
		}
		data := bytes.Clone(raw)
		walLSN := m.appendRecord(recData, data)
		m.sinceCkpt += extraRows(rows)
		m.pushWindow(data, walLSN)
		m.undurable = append(m.undurable, undurableRec{walLSN: walLSN, origin: e.origin, lsn: e.lsn})
		pos++
	}
	return statusOK
}

// receiveCopy takes a chunk of a full copy; the last one installs it, logs
// the marker (which carries the whole copy: replay installs it wholesale,
// never on top of older records) and asks for a checkpoint at it. The
// answer to the last chunk waits until the marker is durable.
func (m *Member) receiveCopy(id ReqID, from uint64, msg message) {
	if msg.diverged {
		m.markStale(fmt.Sprintf("the master %d sends a full copy: this member's data diverged", from))
	}
	in := m.copyIn
	if in == nil || in.from != from || in.id != msg.copyID || msg.offset == 0 {
		if msg.offset != 0 {
			m.answerCopy(id, msg, 0)
			return
		}
		in = &incomingCopy{from: from, id: msg.copyID, total: msg.total}
		m.copyIn = in
	}
	if msg.offset != uint64(len(in.buf)) || msg.total != in.total {
		m.answerCopy(id, msg, uint64(len(in.buf)))
		return
	}
	in.buf = append(in.buf, msg.chunk...)
	if uint64(len(in.buf)) < in.total {
		m.answerCopy(id, msg, uint64(len(in.buf)))
		return
	}
	m.copyIn = nil
	s, err := decodeState(in.buf)
	if err == nil && !m.stale && !m.vc.LessEq(s.vc) {
		// An old copy (a delayed message): this member has more. Taking
		// it would move the vclock back under what it acknowledged.
		m.emit(Note{Event: "old full copy refused", Detail: fmt.Sprintf("from %d at %s, this member at %s", from, s.vc, m.vc)})
		m.answerNow(id, msg.seq, statusOK)
		return
	}
	if err == nil && s.schema < m.schemaApplied {
		// The master has not applied a DDL this member has: wait for it.
		m.answerNow(id, msg.seq, statusSchema)
		return
	}
	if err == nil {
		err = m.install(in.buf, true)
	}
	if err != nil {
		m.emit(Note{Event: "bad full copy", Detail: fmt.Sprintf("from %d: %v", from, err)})
		m.answerCopy(id, msg, 0)
		return
	}
	walLSN := m.appendRecord(recCopy, in.buf)
	m.undurable = append(m.undurable, undurableRec{walLSN: walLSN, vc: m.vc.Clone(), schema: m.schemaApplied})
	m.wantCkpt = true
	m.emit(Note{Event: "full copy installed", Detail: fmt.Sprintf("from %d at %s", from, m.vc)})
	m.answers = append(m.answers, pendingAnswer{id: id, walLSN: walLSN, seq: msg.seq, status: statusOK})
	m.maybeCheckpoint()
	m.settle()
}

func (m *Member) answerCopy(id ReqID, msg message, next uint64) {
	m.emit(Answer{ID: id, Payload: encodeAnswer(answer{seq: msg.seq, status: statusCopying, vc: m.durVC, copyID: msg.copyID, next: next})})
}

// answerNow answers with the durable vclock as it is.
func (m *Member) answerNow(id ReqID, seq uint64, status byte) {
	m.emit(Answer{ID: id, Payload: encodeAnswer(answer{seq: seq, status: status, vc: m.durVC})})
}
