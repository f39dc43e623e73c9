package pgwire

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// startup reads the startup message (answering SSL and GSS encryption
// requests with 'N', serving a CancelRequest), authenticates the user and
// sends the session's parameters, BackendKeyData and ReadyForQuery. It
// answers whether the session is ready for queries.
func (c *conn) startup() bool {
	for negotiations := 0; ; negotiations++ {
		msg, err := c.be.ReceiveStartupMessage()
		if err != nil {
			if !isIOError(err) {
				c.protocolViolation(err.Error())
			}
			return false
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			if negotiations >= 2 {
				c.protocolViolation("too many encryption requests")
				return false
			}
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return false
			}
		case *pgproto3.CancelRequest:
			c.srv.cancel(m.ProcessID, m.SecretKey)
			return false // closed without a reply, as PostgreSQL does
		case *pgproto3.StartupMessage:
			return c.begin(m)
		default:
			c.protocolViolation(fmt.Sprintf("unexpected startup message %T", msg))
			return false
		}
	}
}

// begin authenticates the startup message's user and starts the session.
func (c *conn) begin(m *pgproto3.StartupMessage) bool {
	user := m.Parameters["user"]
	if user == "" {
		c.fatal(&Error{Code: "28000", Message: "no PostgreSQL user name specified in startup packet"})
		return false
	}
	db := m.Parameters["database"]
	if db == "" {
		db = user
	}
	c.sess = &Session{User: user, Database: db, RemoteAddr: c.nc.RemoteAddr().String(), Done: c.done}
	c.settings = newSettings(c.srv.cfg.ServerVersion, user)
	keyLen := 4
	if m.ProtocolVersion == pgproto3.ProtocolVersion32 {
		keyLen = 32
	}
	// Protocol options (_pq_.*) are not known: say so, and which minor
	// version is served.
	var unknown []string
	for name := range m.Parameters {
		if strings.HasPrefix(name, "_pq_.") {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		c.be.Send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: m.ProtocolVersion & 0xFFFF, UnrecognizedOptions: unknown})
	}
	// Other startup parameters are settings, as if SET: one that cannot
	// be set is ignored (the client learns the value from ParameterStatus).
	for name, value := range m.Parameters {
		switch name {
		case "user", "database", "options", "replication":
			continue
		}
		if strings.HasPrefix(name, "_pq_.") {
			continue
		}
		if _, e := c.settings.set(name, value); e != nil {
			c.log.Debug("pgwire: startup parameter ignored", "name", name, "value", value, "err", e.Message)
		}
	}

	if !c.authenticate(user) {
		return false
	}
	for _, name := range reportedParams {
		c.be.Send(&pgproto3.ParameterStatus{Name: name, Value: c.settings.get(name)})
	}
	if err := c.srv.register(c, keyLen); err != nil {
		c.fatal(&Error{Code: "XX000", Message: "cannot make a cancel key: " + err.Error()})
		return false
	}
	c.be.Send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret})
	c.be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	return c.be.Flush() == nil
}

// authenticate runs the configured method's exchange and sends
// AuthenticationOk, or a FATAL error.
func (c *conn) authenticate(user string) bool {
	auth := c.srv.cfg.Backend
	var proof Proof
	switch c.srv.cfg.AuthMethod {
	case AuthMD5:
		var salt [4]byte
		if _, err := rand.Read(salt[:]); err != nil {
			c.fatal(&Error{Code: "XX000", Message: err.Error()})
			return false
		}
		c.be.Send(&pgproto3.AuthenticationMD5Password{Salt: salt})
		_ = c.be.SetAuthType(pgproto3.AuthTypeMD5Password)
		msg, ok := c.receiveAuth()
		if !ok {
			return false
		}
		pw, ok := msg.(*pgproto3.PasswordMessage)
		if !ok {
			c.protocolViolation(fmt.Sprintf("expected a password message, got %T", msg))
			return false
		}
		proof = MD5Proof{Salt: salt, Response: pw.Password}
	default:
		var ok bool
		if proof, ok = c.scram(user); !ok {
			return false
		}
	}
	sig, err := auth.Authenticate(c.sess, user, proof)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = &Error{Code: "28000", Message: err.Error()}
		}
		if c.srv.loginLog.Allow() {
			c.log.Info("pgwire authentication failed", "user", user, "remote", c.sess.RemoteAddr, "err", e.Message)
		}
		c.fatal(e)
		return false
	}
	if _, scram := proof.(SCRAMProof); scram {
		c.be.Send(&pgproto3.AuthenticationSASLFinal{Data: []byte("v=" + base64.StdEncoding.EncodeToString(sig))})
	}
	c.be.Send(&pgproto3.AuthenticationOk{})
	return true
}

// receiveAuth flushes what was sent and reads the client's answer.
func (c *conn) receiveAuth() (pgproto3.FrontendMessage, bool) {
	if c.be.Flush() != nil {
		return nil, false
	}
	msg, err := c.be.Receive()
	if err != nil {
		c.receiveFailed(err)
		return nil, false
	}
	return msg, true
}

// scram runs SCRAM-SHA-256 (RFC 5802, RFC 7677) up to the client's
// proof, without channel binding, as PostgreSQL does for a plain
// connection.
func (c *conn) scram(user string) (Proof, bool) {
	malformed := func(what string) (Proof, bool) {
		c.fatal(&Error{Code: "08P01", Message: "malformed SCRAM message: " + what})
		return nil, false
	}
	c.be.Send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}})
	_ = c.be.SetAuthType(pgproto3.AuthTypeSASL)
	msg, ok := c.receiveAuth()
	if !ok {
		return nil, false
	}
	first, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok {
		c.protocolViolation(fmt.Sprintf("expected a SASL initial response, got %T", msg))
		return nil, false
	}
	if first.AuthMechanism != "SCRAM-SHA-256" {
		c.fatal(&Error{Code: "08P01", Message: "client selected an invalid SASL authentication mechanism"})
		return nil, false
	}
	// client-first: gs2-header ("n,," or "y,,"; "p=..." asks for channel
	// binding) then client-first-bare ("n=user,r=nonce[,ext]").
	data := string(first.Data)
	switch {
	case strings.HasPrefix(data, "p="):
		c.fatal(&Error{Code: "28000", Message: "channel binding is not supported: picogo serves no TLS"})
		return nil, false
	case strings.HasPrefix(data, "n,"), strings.HasPrefix(data, "y,"):
	default:
		return malformed("bad GS2 header")
	}
	authzEnd := strings.IndexByte(data[2:], ',')
	if authzEnd < 0 {
		return malformed("bad GS2 header")
	}
	if authzEnd > 0 {
		c.fatal(&Error{Code: "0A000", Message: "client uses authorization identity, but it is not supported"})
		return nil, false
	}
	gs2 := data[:3]
	bare := data[3:]
	attrs := strings.Split(bare, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "n=") || !strings.HasPrefix(attrs[1], "r=") {
		return malformed("client-first-message")
	}
	clientNonce := attrs[1][2:]
	if clientNonce == "" || !printable(clientNonce) {
		return malformed("client nonce")
	}
	var nonceBytes [18]byte
	if _, err := rand.Read(nonceBytes[:]); err != nil {
		c.fatal(&Error{Code: "XX000", Message: err.Error()})
		return nil, false
	}
	nonce := clientNonce + base64.StdEncoding.EncodeToString(nonceBytes[:])
	salt, iterations := c.srv.cfg.Backend.SCRAMSalt(c.sess, user)
	serverFirst := "r=" + nonce + ",s=" + base64.StdEncoding.EncodeToString(salt) + ",i=" + strconv.Itoa(iterations)
	c.be.Send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})
	_ = c.be.SetAuthType(pgproto3.AuthTypeSASLContinue)
	msg, ok = c.receiveAuth()
	if !ok {
		return nil, false
	}
	final, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		c.protocolViolation(fmt.Sprintf("expected a SASL response, got %T", msg))
		return nil, false
	}
	// client-final: "c=base64(gs2-header),r=nonce[,ext],p=proof".
	cf := string(final.Data)
	i := strings.LastIndex(cf, ",p=")
	if i < 0 {
		return malformed("client-final-message has no proof")
	}
	withoutProof, proofText := cf[:i], cf[i+3:]
	attrs = strings.Split(withoutProof, ",")
	if len(attrs) < 2 || attrs[0] != "c="+base64.StdEncoding.EncodeToString([]byte(gs2)) {
		return malformed("channel binding attribute")
	}
	if attrs[1] != "r="+nonce {
		return malformed("nonce does not match")
	}
	clientProof, err := base64.StdEncoding.DecodeString(proofText)
	if err != nil || len(clientProof) != 32 {
		return malformed("client proof")
	}
	authMessage := bytes.Join([][]byte{[]byte(bare), []byte(serverFirst), []byte(withoutProof)}, []byte(","))
	return SCRAMProof{AuthMessage: authMessage, ClientProof: clientProof}, true
}

// printable: SCRAM's nonce characters (printable ASCII but ',').
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e || s[i] == ',' {
			return false
		}
	}
	return true
}
