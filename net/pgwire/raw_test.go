package pgwire

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/picogo/picogo/internal/loglimit"
	"github.com/stretchr/testify/require"
)

// dialRaw opens a connection to srv for pgproto3.Frontend.
func dialRaw(t *testing.T, srv *Server) (*pgproto3.Frontend, net.Conn) {
	t.Helper()
	nc, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { nc.Close() })
	return pgproto3.NewFrontend(nc, nc), nc
}

func receive(t *testing.T, fe *pgproto3.Frontend) pgproto3.BackendMessage {
	t.Helper()
	msg, err := fe.Receive()
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return msg
}

func expectClosed(t *testing.T, nc net.Conn) {
	t.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("connection not closed: %v", err)
	}
}

// loginRaw logs alice in with MD5 (the server must use it) and reads up
// to ReadyForQuery.
func loginRaw(t *testing.T, srv *Server) (*pgproto3.Frontend, net.Conn) {
	t.Helper()
	fe, nc := dialRaw(t, srv)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "alice"}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	req, ok := receive(t, fe).(*pgproto3.AuthenticationMD5Password)
	if !ok {
		t.Fatal("no MD5 request")
	}
	fe.Send(&pgproto3.PasswordMessage{Password: md5Response("alice", "secret", req.Salt)})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		switch m := receive(t, fe).(type) {
		case *pgproto3.ReadyForQuery:
			return fe, nc
		case *pgproto3.ErrorResponse:
			t.Fatalf("login: %+v", m)
		}
	}
}

func md5Response(user, password string, salt [4]byte) string {
	inner := md5.Sum([]byte(password + user))
	outer := md5.Sum(append([]byte(hex.EncodeToString(inner[:])), salt[:]...))
	return "md5" + hex.EncodeToString(outer[:])
}

// kinds names the messages up to ReadyForQuery, with CommandComplete's
// tag and DataRow's first value.
func kinds(t *testing.T, fe *pgproto3.Frontend) []string {
	t.Helper()
	var got []string
	for {
		msg := receive(t, fe)
		switch m := msg.(type) {
		case *pgproto3.CommandComplete:
			got = append(got, "Complete "+string(m.CommandTag))
		case *pgproto3.DataRow:
			got = append(got, "Row "+string(m.Values[0]))
		case *pgproto3.ErrorResponse:
			got = append(got, "Error "+m.Code)
		default:
			got = append(got, reflect.TypeOf(msg).Elem().Name())
		}
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			return got
		}
	}
}

// TestExecuteMaxRows: Execute sends at most its row limit, then
// PortalSuspended; the next Execute goes on.
func TestExecuteMaxRows(t *testing.T) {
	srv, f := startServer(t, ServerConfig{AuthMethod: AuthMD5})
	fe, _ := loginRaw(t, srv)
	fe.Send(&pgproto3.Parse{Name: "s", Query: "SELECT n FROM series;"})
	fe.Send(&pgproto3.Bind{PreparedStatement: "s", DestinationPortal: "p"})
	fe.Send(&pgproto3.Describe{ObjectType: 'P', Name: "p"})
	fe.Send(&pgproto3.Execute{Portal: "p", MaxRows: 2})
	fe.Send(&pgproto3.Execute{Portal: "p", MaxRows: 2})
	fe.Send(&pgproto3.Execute{Portal: "p", MaxRows: 2})
	fe.Send(&pgproto3.Sync{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	want := []string{"ParseComplete", "BindComplete", "RowDescription", "Row 1", "Row 2", "PortalSuspended",
		"Row 3", "Row 4", "PortalSuspended", "Row 5", "Complete SELECT 5", "ReadyForQuery"}
	if got := kinds(t, fe); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if ran, _ := f.lastRun(); len(ran) != 1 {
		t.Errorf("ran %q", ran)
	}

	// The named statement outlives Sync; binary results are per column.
	fe.Send(&pgproto3.Bind{PreparedStatement: "s", ResultFormatCodes: []int16{1}})
	fe.Send(&pgproto3.Execute{MaxRows: 1})
	fe.Send(&pgproto3.Sync{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := kinds(t, fe); !reflect.DeepEqual(got, []string{"BindComplete", "Row \x00\x00\x00\x00\x00\x00\x00\x01", "PortalSuspended", "ReadyForQuery"}) {
		t.Errorf("binary: %q", got)
	}

	// After an error, messages up to Sync are skipped.
	fe.Send(&pgproto3.Parse{Query: "BAD"})
	fe.Send(&pgproto3.Bind{})
	fe.Send(&pgproto3.Execute{})
	fe.Send(&pgproto3.Sync{})
	fe.Send(&pgproto3.Parse{Name: "s", Query: "SELECT n FROM series"})
	fe.Send(&pgproto3.Sync{})
	fe.Send(&pgproto3.Describe{ObjectType: 'S', Name: "nope"})
	fe.Send(&pgproto3.Close{ObjectType: 'S', Name: "s"})
	fe.Send(&pgproto3.Sync{})
	fe.Send(&pgproto3.Close{ObjectType: 'S', Name: "s"})
	fe.Send(&pgproto3.Close{ObjectType: 'P', Name: "nope"})
	fe.Send(&pgproto3.Parse{Name: "s", Query: "SHOW DateStyle"})
	fe.Send(&pgproto3.Describe{ObjectType: 'S', Name: "s"})
	fe.Send(&pgproto3.Bind{PreparedStatement: "s"})
	fe.Send(&pgproto3.Execute{})
	fe.Send(&pgproto3.Sync{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, want := range [][]string{
		{"Error 42601", "ReadyForQuery"},
		{"Error 42P05", "ReadyForQuery"},
		{"Error 26000", "ReadyForQuery"},
		{"CloseComplete", "CloseComplete", "ParseComplete", "ParameterDescription", "RowDescription", "BindComplete",
			"Row ISO, MDY", "Complete SHOW", "ReadyForQuery"},
	} {
		if got := kinds(t, fe); !reflect.DeepEqual(got, want) {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	}
}

// TestBrokenMessage: an unknown message type gets a FATAL 08P01 and the
// connection closed.
func TestBrokenMessage(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{AuthMethod: AuthMD5})
	_, nc := loginRaw(t, srv)
	if _, err := nc.Write([]byte{'z', 0, 0, 0, 4}); err != nil {
		t.Fatal(err)
	}
	fe := pgproto3.NewFrontend(nc, nc)
	if e, ok := receive(t, fe).(*pgproto3.ErrorResponse); !ok || e.Code != "08P01" || e.Severity != "FATAL" {
		t.Errorf("got %#v", e)
	}
	expectClosed(t, nc)
}

// TestSSLRequestDeclined: SSLRequest gets 'N', then the startup goes on.
func TestSSLRequestDeclined(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{AuthMethod: AuthMD5})
	fe, nc := dialRaw(t, srv)
	fe.Send(&pgproto3.SSLRequest{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(nc, b); err != nil || b[0] != 'N' {
		t.Fatalf("SSLRequest answer %q %v", b, err)
	}
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "alice"}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, ok := receive(t, fe).(*pgproto3.AuthenticationMD5Password); !ok {
		t.Fatal("no MD5 request after SSLRequest")
	}
}

// TestClientGone: a client that closes its connection while its
// statement runs cancels it; a client that sends its next messages
// meanwhile has them served after it.
func TestClientGone(t *testing.T) {
	srv, f := startServer(t, ServerConfig{AuthMethod: AuthMD5})
	fe, nc := loginRaw(t, srv)
	fe.Send(&pgproto3.Query{String: "SLEEP"})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	<-f.sleeping
	nc.Close()
	select {
	case cause := <-f.slept:
		if !errors.Is(cause, errClientGone) {
			t.Errorf("cause %v", cause)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the statement was not cancelled")
	}

	// A message that arrives while a statement runs is read ahead by
	// the watch and served after it.
	fe, _ = loginRaw(t, srv)
	fe.Send(&pgproto3.Query{String: "SLEEP"})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	<-f.sleeping
	fe.Send(&pgproto3.Query{String: "SELECT n FROM series"})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	srv.mu.Lock()
	for c := range srv.conns {
		c.cancelStatement()
	}
	srv.mu.Unlock()
	want := [][]string{{"Error 57014", "ReadyForQuery"},
		{"RowDescription", "Row 1", "Row 2", "Row 3", "Row 4", "Row 5", "Complete SELECT 5", "ReadyForQuery"}}
	for _, w := range want {
		if got := kinds(t, fe); !reflect.DeepEqual(got, w) {
			t.Errorf("got %q, want %q", got, w)
		}
	}
}

// TestParseParamOIDs: the types a client gives in Parse override the
// described ones; Describe reports them.
func TestParseParamOIDs(t *testing.T) {
	srv, f := startServer(t, ServerConfig{AuthMethod: AuthMD5})
	fe, _ := loginRaw(t, srv)
	fe.Send(&pgproto3.Parse{Name: "s", Query: "SELECT $1::integer, $2::integer", ParameterOIDs: []uint32{25, 0}})
	fe.Send(&pgproto3.Describe{ObjectType: 'S', Name: "s"})
	fe.Send(&pgproto3.Sync{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		msg := receive(t, fe)
		if pd, ok := msg.(*pgproto3.ParameterDescription); ok && !reflect.DeepEqual(pd.ParameterOIDs, []uint32{25, 20}) {
			t.Errorf("parameter OIDs %v", pd.ParameterOIDs)
		}
		if rd, ok := msg.(*pgproto3.RowDescription); ok && (len(rd.Fields) != 2 || rd.Fields[0].DataTypeOID != 20 || rd.Fields[0].Format != 0) {
			t.Errorf("row description %+v", rd.Fields)
		}
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	fe.Send(&pgproto3.Bind{PreparedStatement: "s", Parameters: [][]byte{[]byte("abc"), []byte(" 12 ")}})
	fe.Send(&pgproto3.Execute{})
	fe.Send(&pgproto3.Sync{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := kinds(t, fe); !reflect.DeepEqual(got, []string{"BindComplete", "Row abc", "Complete SELECT 1", "ReadyForQuery"}) {
		t.Errorf("got %q", got)
	}
	if _, p := f.lastRun(); !reflect.DeepEqual(p, []any{"abc", int64(12)}) {
		t.Errorf("params %#v", p)
	}
}

// TestSCRAMMalformed: channel binding is refused with 28000, malformed
// SASL messages with 08P01, each closing the connection.
func TestSCRAMMalformed(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	start := func() (*pgproto3.Frontend, net.Conn) {
		fe, nc := dialRaw(t, srv)
		fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "alice"}})
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		if m, ok := receive(t, fe).(*pgproto3.AuthenticationSASL); !ok || !reflect.DeepEqual(m.AuthMechanisms, []string{"SCRAM-SHA-256"}) {
			t.Fatalf("no SASL request: %#v", m)
		}
		return fe, nc
	}
	expectFatal := func(fe *pgproto3.Frontend, nc net.Conn, code string) {
		t.Helper()
		if e, ok := receive(t, fe).(*pgproto3.ErrorResponse); !ok || e.Code != code || e.Severity != "FATAL" {
			t.Errorf("want FATAL %s, got %#v", code, e)
		}
		expectClosed(t, nc)
	}
	for _, c := range []struct{ first, code string }{
		{"p=tls-server-end-point,,n=,r=abc", "28000"},
		{"x,,n=,r=abc", "08P01"},
		{"n,,n=,r=", "08P01"},
		{"n,,r=abc", "08P01"},
		{"n,a=bob,n=,r=abc", "0A000"},
	} {
		fe, nc := start()
		fe.Send(&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte(c.first)})
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		expectFatal(fe, nc, c.code)
	}
	for _, final := range []string{"c=biws,r=wrongnonce,p=AAAA", "c=eSws,r=%s,p=" + strings.Repeat("A", 44), "c=biws,r=%s", "c=biws,r=%s,p=!!"} {
		fe, nc := start()
		fe.Send(&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte("n,,n=,r=clientnonce")})
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		cont, ok := receive(t, fe).(*pgproto3.AuthenticationSASLContinue)
		if !ok {
			t.Fatal("no server-first message")
		}
		nonce, _, _ := strings.Cut(strings.TrimPrefix(string(cont.Data), "r="), ",")
		if !strings.HasPrefix(nonce, "clientnonce") || len(nonce) != len("clientnonce")+24 ||
			!strings.HasSuffix(string(cont.Data), ",s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096") {
			t.Errorf("server-first %q", cont.Data)
		}
		if strings.Contains(final, "%s") {
			final = fmt.Sprintf(final, nonce)
		}
		fe.Send(&pgproto3.SASLResponse{Data: []byte(final)})
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		expectFatal(fe, nc, "08P01")
	}
}

// TestGarbageConnectionsAreLoggedWithinALimit: a client without
// credentials cannot flood the log: the first loglimit.Burst violations
// are logged, the rest counted in one line when the server closes.
func TestGarbageConnectionsAreLoggedWithinALimit(t *testing.T) {
	var logs lockedBuffer
	srv, _ := startServer(t, ServerConfig{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for range loglimit.Burst + 3 {
		_, nc := dialRaw(t, srv)
		if _, err := nc.Write([]byte{0, 0, 0, 8, 0, 0, 0, 1}); err != nil { // an unknown protocol version
			t.Fatal(err)
		}
		answer, err := io.ReadAll(nc) // an error, then the end
		require.NoError(t, err)
		require.Contains(t, string(answer), "08P01")
	}
	require.NoError(t, srv.Close())
	require.Equal(t, loglimit.Burst, strings.Count(logs.String(), "pgwire connection closed for a protocol violation"), logs.String())
	require.Contains(t, logs.String(), `msg="3 more pgwire connections closed for protocol violations in the last 10s"`)
}

// lockedBuffer is a log destination safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
