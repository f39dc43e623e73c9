package raft

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// TestMessageWireShape: a message travels in `.proc_raft_interact` as a
// msgpack array of its fields, entries as arrays too, and comes back equal.
func TestMessageWireShape(t *testing.T) {
	m := Message{
		Type: MsgApp, To: 2, From: 1, Term: 3, LogTerm: 2, Index: 7,
		Entries: []Entry{{Term: 3, Index: 8, Type: EntryConfChange, Data: []byte("cc")}},
		Commit:  6, Match: 5, Round: 4, Reject: true, RejectHint: 3, Reverted: true, Transfer: true,
		Context:  []byte("ctx"),
		Snapshot: &Snapshot{Meta: SnapshotMeta{Index: 9, Term: 2, ConfState: ConfState{Voters: []uint64{1, 2}}}},
	}
	b, err := msgpack.Marshal(m)
	require.NoError(t, err)
	var generic []any
	require.NoError(t, msgpack.Unmarshal(b, &generic))
	require.Len(t, generic, 16, "one array element per field")
	entry, ok := generic[6].([]any)
	require.True(t, ok)
	require.IsType(t, []any{}, entry[0], "entries are arrays")

	var back Message
	require.NoError(t, msgpack.Unmarshal(b, &back))
	require.Equal(t, m, back)

	// A message of another shape is refused, not half-read.
	short, _ := msgpack.Marshal([]any{1, 2, 3})
	require.Error(t, msgpack.Unmarshal(short, &back))
}
