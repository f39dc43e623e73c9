package iproto

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// The fuzz targets' committed seeds (testdata/fuzz/<Name>/) are the notes'
// observed net.box bytes and a few edge cases. Each target must never panic.

const fuzzMaxFrame = 1 << 16

// packets yields what a fuzz input may stand for: the packet of the frame it
// starts with, if any, and the input itself as a bare packet.
func packets(data []byte) [][]byte {
	out := [][]byte{data}
	if p, err := ReadFrame(bytes.NewReader(data), fuzzMaxFrame); err == nil {
		out = append(out, p)
	}
	return out
}

func FuzzReadFrame(f *testing.F) {
	f.Add(EncodePing(1))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			before := r.Len()
			p, err := ReadFrame(r, 1<<10)
			if err != nil {
				return
			}
			if len(p) > 1<<10 {
				t.Fatalf("frame of %d bytes over the limit", len(p))
			}
			if r.Len() >= before {
				t.Fatalf("ReadFrame consumed nothing")
			}
		}
	})
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add(EncodeExecute(1, "select 1", msgpack.RawMessage{0x91, 0x01}))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range packets(data) {
			req, err := DecodeRequest(p)
			exerciseRequest(req)
			if err != nil {
				continue
			}
			// What decodes as a CALL re-encodes to the same call.
			fn, err1 := req.FunctionName()
			args, err2 := req.Args()
			if req.Type == TypeCall && err1 == nil && err2 == nil && checkValue(args) == nil {
				again, err := DecodeRequest(EncodeCall(req.Sync, fn, args)[framePrefix:])
				if err != nil {
					t.Fatalf("re-encoded call does not decode: %v", err)
				}
				fn2, _ := again.FunctionName()
				args2, _ := again.Args()
				if fn2 != fn || !bytes.Equal(args2, args) || again.Sync != req.Sync {
					t.Fatalf("call round trip: %q %x -> %q %x", fn, args, fn2, args2)
				}
			}
		}
	})
}

// exerciseRequest calls every accessor, whatever the request type.
func exerciseRequest(req Request) {
	_, _ = req.FunctionName()
	_, _ = req.Tuple()
	_, _ = req.Args()
	_, _ = req.Expr()
	_, _ = req.AuthUser()
	_, _ = req.AuthMethod()
	_, _ = req.AuthScramble()
	_, _ = req.SpaceID()
	_, _ = req.IndexID()
	_, _ = req.Limit()
	_, _ = req.Offset()
	_, _ = req.Iterator()
	_, _ = req.Key()
	_, _, _, _ = req.SQL()
	_, _ = req.IDVersion()
	_, _ = req.IDFeatures()
	_, _ = req.IDAuthType()
	_, _ = req.EventKey()
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add(EncodeError(1, 2, CodeNoSuchSpace, "Space '1' does not exist"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range packets(data) {
			resp, err := DecodeResponse(p)
			_, _ = resp.Metadata()
			_, _ = resp.RowCount()
			_, _ = resp.IDVersion()
			_, _ = resp.IDFeatures()
			_, _ = resp.IDAuthType()
			if err != nil {
				continue
			}
			if (resp.Err != nil) != (resp.Type&TypeErrorFlag != 0) {
				t.Fatalf("type %#x but Err %v", resp.Type, resp.Err)
			}
			// What decodes re-encodes to the same result.
			var frame []byte
			switch {
			case resp.Err != nil:
				frame = EncodeErrorFields(resp.Sync, resp.SchemaVersion, resp.Err.Code, resp.Err.Message, resp.Err.Fields)
			case resp.Data != nil && kindOf(resp.Data) == kindArray:
				frame = EncodeData(resp.Sync, resp.SchemaVersion, resp.Data)
			default:
				continue
			}
			again, err := DecodeResponse(frame[framePrefix:])
			if err != nil {
				t.Fatalf("re-encoded reply does not decode: %v", err)
			}
			if again.Sync != resp.Sync || again.SchemaVersion != resp.SchemaVersion ||
				resp.Err == nil && !bytes.Equal(again.Data, resp.Data) {
				t.Fatalf("reply round trip: %+v -> %+v", resp, again)
			}
			if resp.Err != nil && (again.Err.Code != resp.Err.Code || again.Err.Message != resp.Err.Message ||
				!reflect.DeepEqual(again.Err.Fields, resp.Err.Fields)) {
				t.Fatalf("error round trip: %+v -> %+v", resp.Err, again.Err)
			}
		}
	})
}
