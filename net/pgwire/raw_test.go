package pgwire

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
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
