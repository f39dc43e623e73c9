package proc

import (
	"testing"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
	"github.com/vmihailenco/msgpack/v5"
)

// FuzzDecode: whatever bytes arrive as a procedure's arguments, decoding
// them never panics, and what decodes encodes back to arguments that decode
// to the same request.
func FuzzDecode(f *testing.F) {
	seeds := []api.Request{
		api.VersionInfo{}, api.ReadIndex{Timeout: 1e9}, api.WaitIndex{Target: 3, Timeout: 1e9},
		api.RaftInteract{Messages: []raft.Message{{Type: raft.MsgHeartbeat, To: 2, From: 1, Term: 3, Commit: 4}}},
		api.SnapshotNextChunk{Term: 2, Index: 5, Position: tables.SnapshotPosition{TableID: 516, TupleOffset: 1}},
		api.Cas{ClusterID: "demo", Predicate: api.Predicate{Index: 1, Term: 1},
			Op: tables.DmlOp(tables.Insert(516, "k", "v")), AsUser: 1},
	}
	for i, r := range seeds {
		args, err := EncodeArgs(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), args)
	}
	f.Add(uint8(0), []byte{0xc1})
	f.Add(uint8(5), []byte{0x94, 0xa1, 'x', 0x80, 0x80, 0x01})
	names := Names()
	f.Fuzz(func(t *testing.T, which uint8, args []byte) {
		name := names[int(which)%len(names)]
		req, e := Decode(name, args)
		if e != nil {
			if e.Message == "" || e.Code == 0 {
				t.Fatalf("%s: an error without a code or message: %+v", name, e)
			}
			return
		}
		again, err := EncodeArgs(req)
		if err != nil {
			t.Fatalf("%s: decoded but cannot encode: %v", name, err)
		}
		if _, e := Decode(name, again); e != nil {
			t.Fatalf("%s: re-encoded arguments do not decode: %v", name, e)
		}
		_ = msgpack.RawMessage(again)
	})
}
