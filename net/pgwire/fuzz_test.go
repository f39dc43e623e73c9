package pgwire

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// pipeListener hands the server the ends of net.Pipe connections.
type pipeListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// encode is the bytes of frontend messages.
func encode(msgs ...pgproto3.FrontendMessage) []byte {
	var b []byte
	for _, m := range msgs {
		b, _ = m.Encode(b)
	}
	return b
}

// FuzzServerInput feeds arbitrary bytes to a connection as its client's
// stream, raw (from the startup on) or after a valid MD5 login: the
// server must neither panic nor hang, and the connection must end when
// the client goes.
func FuzzServerInput(f *testing.F) {
	f.Add(false, encode(&pgproto3.Query{String: "SELECT types; SET a = 1; SHOW a; BAD"}))
	f.Add(false, encode(&pgproto3.Parse{Name: "s", Query: "SELECT $1::integer, $2::datetime", ParameterOIDs: []uint32{0, 1184}},
		&pgproto3.Bind{PreparedStatement: "s", ParameterFormatCodes: []int16{1, 0}, Parameters: [][]byte{{0, 0, 0, 0, 0, 0, 0, 7}, []byte("2024-01-02 03:04:05+00")}, ResultFormatCodes: []int16{1}},
		&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{MaxRows: 1}, &pgproto3.Execute{}, &pgproto3.Sync{}))
	f.Add(false, encode(&pgproto3.Parse{Query: "SELECT types"}, &pgproto3.Bind{ResultFormatCodes: []int16{1}}, &pgproto3.Execute{}, &pgproto3.Flush{},
		&pgproto3.Close{ObjectType: 'S'}, &pgproto3.Sync{}, &pgproto3.Terminate{}))
	f.Add(false, []byte{'Q', 0xff, 0xff, 0xff, 0xff, 'x'})
	f.Add(false, []byte{'B', 0, 0, 0, 9, 0, 0, 0xff, 0xff, 0})
	f.Add(true, encode(&pgproto3.SSLRequest{}, &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "alice"}}))
	f.Add(true, encode(&pgproto3.CancelRequest{ProcessID: 1, SecretKey: []byte{1, 2, 3, 4}}))
	f.Add(true, encode(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion32, Parameters: map[string]string{"user": "a", "_pq_.x": "1", "DateStyle": "German", "TimeZone": "Nowhere/None"}}))

	ln := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	fake := newFake()
	fake.noSleep = true
	srv := NewServer(ServerConfig{Listener: ln, Backend: fake, AuthMethod: AuthMD5, MaxMessage: 1 << 16})
	go srv.Serve()
	f.Cleanup(func() { srv.Close() })

	f.Fuzz(func(t *testing.T, raw bool, data []byte) {
		client, server := net.Pipe()
		defer client.Close()
		_ = client.SetDeadline(time.Now().Add(5 * time.Second))
		ln.conns <- server
		if !raw {
			fe := pgproto3.NewFrontend(client, client)
			fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "alice"}})
			if err := fe.Flush(); err != nil {
				t.Fatal(err)
			}
			msg, err := fe.Receive()
			req, ok := msg.(*pgproto3.AuthenticationMD5Password)
			if err != nil || !ok {
				t.Fatalf("no MD5 request: %v", err)
			}
			fe.Send(&pgproto3.PasswordMessage{Password: md5Response("alice", "secret", req.Salt)})
			if err := fe.Flush(); err != nil {
				t.Fatal(err)
			}
			for {
				msg, err := fe.Receive()
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
					break
				}
			}
		}
		drained := make(chan struct{})
		go func() {
			_, _ = io.Copy(io.Discard, client)
			close(drained)
		}()
		_, _ = client.Write(data) // fails once the server has closed: fine
		client.Close()
		<-drained
		deadline := time.Now().Add(5 * time.Second)
		for {
			srv.mu.Lock()
			n := len(srv.conns)
			srv.mu.Unlock()
			if n == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("the connection's goroutine did not end")
			}
			time.Sleep(time.Millisecond)
		}
	})
}
