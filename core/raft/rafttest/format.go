package rafttest

import (
	"fmt"
	"strings"

	"github.com/picogo/picogo/core/raft"
)

// FormatEntry renders an entry as index/term Type data.
func FormatEntry(e raft.Entry) string {
	switch e.Type {
	case raft.EntryConfChange:
		cc, err := raft.UnmarshalConfChange(e.Data)
		if err != nil {
			return fmt.Sprintf("%d/%d ConfChange <%v>", e.Term, e.Index, err)
		}
		return fmt.Sprintf("%d/%d ConfChange %s", e.Term, e.Index, cc)
	}
	if len(e.Data) == 0 {
		return fmt.Sprintf("%d/%d Normal <empty>", e.Term, e.Index)
	}
	return fmt.Sprintf("%d/%d Normal %q", e.Term, e.Index, e.Data)
}

// FormatEntries renders entries separated by commas.
func FormatEntries(ents []raft.Entry) string {
	parts := make([]string, len(ents))
	for i, e := range ents {
		parts[i] = FormatEntry(e)
	}
	return strings.Join(parts, ", ")
}

// FormatMessage renders the fields of m that matter for its type.
func FormatMessage(m raft.Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d->%d %s Term:%d", m.From, m.To, m.Type, m.Term)
	switch m.Type {
	case raft.MsgApp:
		fmt.Fprintf(&b, " Log:%d/%d Commit:%d", m.LogTerm, m.Index, m.Commit)
		if m.Match > 0 {
			fmt.Fprintf(&b, " Match:%d", m.Match)
		}
		if len(m.Entries) > 0 {
			fmt.Fprintf(&b, " Entries:[%s]", FormatEntries(m.Entries))
		}
	case raft.MsgAppResp:
		fmt.Fprintf(&b, " Index:%d", m.Index)
		if m.Reject {
			fmt.Fprintf(&b, " Rejected (Hint: %d/%d)", m.LogTerm, m.RejectHint)
		}
		if m.Reverted {
			fmt.Fprintf(&b, " Reverted (Match: %d)", m.Match)
		}
	case raft.MsgVote, raft.MsgPreVote:
		fmt.Fprintf(&b, " Log:%d/%d", m.LogTerm, m.Index)
		if m.Transfer {
			b.WriteString(" Transfer")
		}
	case raft.MsgVoteResp, raft.MsgPreVoteResp:
		if m.Reject {
			b.WriteString(" Rejected")
		} else {
			b.WriteString(" Granted")
		}
	case raft.MsgHeartbeat:
		fmt.Fprintf(&b, " Commit:%d Round:%d", m.Commit, m.Round)
		if m.Match > 0 {
			fmt.Fprintf(&b, " Match:%d", m.Match)
		}
	case raft.MsgHeartbeatResp:
		fmt.Fprintf(&b, " Round:%d", m.Round)
	case raft.MsgSnap:
		if s := m.Snapshot; s != nil {
			fmt.Fprintf(&b, " Snapshot: Index:%d Term:%d %s", s.Meta.Index, s.Meta.Term, s.Meta.ConfState)
		}
	case raft.MsgProp:
		fmt.Fprintf(&b, " Entries:[%s]", FormatEntries(m.Entries))
	case raft.MsgReadIndex, raft.MsgReadIndexResp:
		if m.Type == raft.MsgReadIndexResp {
			fmt.Fprintf(&b, " Index:%d", m.Index)
		}
		fmt.Fprintf(&b, " Ctx:%q", m.Context)
	}
	return b.String()
}

// FormatStatus renders a node's role, term and indexes on one line.
func FormatStatus(s raft.Status) string {
	lead := "none"
	if s.Lead != raft.None {
		lead = fmt.Sprint(s.Lead)
	}
	return fmt.Sprintf("%d: %s term=%d vote=%d lead=%s commit=%d applied=%d last=%d %s",
		s.ID, s.State, s.Term, s.Vote, lead, s.Commit, s.Applied, s.LastIndex, s.ConfState)
}
