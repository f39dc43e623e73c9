package cli

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/net/tcp"
)

type acceptAll struct{}

func (acceptAll) Authenticate(*tcp.Session, string, []byte, []byte) error { return nil }

// fakeSQLServer is an iproto server whose .proc_sql answers as the
// contract says: a SELECT's metadata and rows (with a decimal, a uuid and
// a NULL), an INSERT's row_count 3, an error for "boom". It records the
// arguments of every .proc_sql call.
func fakeSQLServer(t *testing.T) (addr string, calls func() [][]any) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got [][]any
	marshal := func(v any) []byte { return tuple.MustMarshal(v) }
	srv := tcp.NewServer(tcp.ServerConfig{Listener: ln, Auth: acceptAll{}, Serve: func(_ *tcp.Session, packet []byte, reply func([]byte)) {
		req, err := iproto.DecodeRequest(packet)
		if err != nil {
			reply(iproto.EncodeError(req.Sync, 0, 20, err.Error()))
			return
		}
		fn, _ := req.FunctionName()
		raw, _ := req.Args()
		args, _ := tuple.DecodeArray(raw)
		switch fn {
		case ".proc_version_info":
			reply(iproto.EncodeCallReply(req.Sync, 0, marshal(map[string]any{"picodata_version": "test"})))
			return
		case ".proc_sql":
		default:
			reply(iproto.EncodeError(req.Sync, 0, 33, "Procedure '"+fn+"' is not defined"))
			return
		}
		mu.Lock()
		got = append(got, args)
		mu.Unlock()
		q, _ := args[0].(string)
		switch {
		case strings.Contains(q, "boom"):
			reply(iproto.EncodeError(req.Sync, 0, 3, "rule parsing error at line 1, column 8: unexpected boom"))
		case strings.HasPrefix(q, "INSERT"):
			reply(iproto.EncodeCallReply(req.Sync, 0, marshal(map[string]any{"row_count": 3})))
		default:
			reply(iproto.EncodeCallReply(req.Sync, 0, marshal(map[string]any{
				"metadata": []any{map[string]any{"name": "id", "type": "integer"}, map[string]any{"name": "price", "type": "decimal"},
					map[string]any{"name": "u", "type": "uuid"}},
				"rows": []any{
					[]any{1, tuple.MustDecimal("1.50"), uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")},
					[]any{10, nil, nil},
				},
			})))
		}
	}})
	go func() { _ = srv.Serve() }()
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), func() [][]any { mu.Lock(); defer mu.Unlock(); return got }
}

// TestConnectOverIproto: picogo connect against an iproto server with a
// .proc_sql of the contract's shapes: what it sends, what it prints, and
// its exit codes in -c and stdin modes.
func TestConnectOverIproto(t *testing.T) {
	addr, calls := fakeSQLServer(t)
	env := func(k string) string {
		if k == "PICOGO_ADMIN_PASSWORD" {
			return "secret"
		}
		return ""
	}
	var out, errOut bytes.Buffer
	code := runConnect([]string{addr, "-c", "INSERT INTO t VALUES (1); SELECT * FROM t; SELECT boom; SELECT 2"},
		env, strings.NewReader(""), &out, &errOut)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	wantOut := "INSERT 3\n" +
		" id | price |                  u\n" +
		"----+-------+--------------------------------------\n" +
		"  1 |  1.50 | 6ba7b810-9dad-11d1-80b4-00c04fd430c8\n" +
		" 10 |  NULL | NULL\n" +
		"(2 rows)\n\n"
	if out.String() != wantOut {
		t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), wantOut)
	}
	wantErr := "ERROR: rule parsing error at line 1, column 8: unexpected boom (code 3)\n" +
		"picogo connect: stopped at -c:1; what follows it was not run\n"
	if errOut.String() != wantErr {
		t.Errorf("stderr %q, want %q", errOut.String(), wantErr)
	}
	got := calls()
	if len(got) != 3 || len(got[0]) != 1 || got[0][0] != "INSERT INTO t VALUES (1)" || got[2][0] != "SELECT boom" {
		t.Errorf(".proc_sql got %v; want [query] for the first three statements", got)
	}

	// Statements on stdin (not a terminal), and a procedure call.
	out.Reset()
	errOut.Reset()
	code = runConnect([]string{"guest@" + addr}, env, strings.NewReader("INSERT INTO t\nVALUES (2);\n.proc_version_info\n"), &out, &errOut)
	if code != 0 || out.String() != "INSERT 3\n[{\"picodata_version\":\"test\"}]\n" || errOut.String() != "" {
		t.Errorf("stdin: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}
