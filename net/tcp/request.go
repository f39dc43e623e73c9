package tcp

import (
	"errors"
	"fmt"

	pnet "github.com/picogo/picogo/net"
	"github.com/picogo/picogo/net/iproto"
)

// serverFeatures are the ID features the server advertises: none of them
// is implemented (no streams or transactions, no watchers, no pagination,
// no space and index names, MP_ERROR only as the ERROR body key).
var serverFeatures = []uint64{}

// handle routes one request packet.
func (c *conn) handle(packet []byte) {
	h, err := readHeader(packet)
	if err != nil {
		// Framing is intact, only the header is garbled: answer (to sync 0,
		// the sync being unreadable) and read on.
		c.send(c.errorReply(0, &iproto.DecodeError{Code: iproto.CodeInvalidMsgpack,
			Message: "Invalid MsgPack - packet header: " + err.Error()}))
		return
	}
	switch h.typ {
	case iproto.TypeAuth:
		// The Authenticator may take its time (a refusal is held back):
		// the replies of earlier requests go first.
		c.box.release(c.writeNow)
		c.send(c.auth(packet, h.sync))
	case iproto.TypeID:
		c.send(c.id(packet, h.sync))
	case iproto.TypePing:
		c.send(c.ping(packet, h.sync))
	default:
		c.srv.cfg.Serve(c.sess, packet, c.replier())
	}
}

// auth serves AUTH: an empty tuple switches a session back to guest (for
// user guest only); otherwise the chap-sha1 scramble goes to the
// Authenticator. A failure leaves the session's user as it was.
func (c *conn) auth(packet []byte, sync uint64) []byte {
	req, err := iproto.DecodeRequest(packet)
	if err != nil {
		return c.errorReply(sync, err)
	}
	user, err := req.AuthUser()
	if err != nil {
		return c.errorReply(sync, err)
	}
	method, err := req.AuthMethod()
	if err != nil {
		return c.errorReply(sync, err)
	}
	scramble, err := req.AuthScramble()
	if err != nil {
		return c.errorReply(sync, err)
	}
	switch {
	case method == "" && scramble == nil:
		if user != Guest {
			// Tarantool: only guest may log in without a password.
			return c.errorReply(sync, &iproto.DecodeError{Code: iproto.CodeInvalidMsgpack,
				Message: "Invalid MsgPack - authentication request body"})
		}
	case method != iproto.AuthChapSha1:
		return c.errorReply(sync, &pnet.Error{Code: iproto.CodeUnknownAuthMethod,
			Message: fmt.Sprintf("Unknown authentication method '%s'", method)})
	default:
		if err := c.srv.cfg.Auth.Authenticate(c.sess, user, c.salt[:], scramble); err != nil {
			if c.srv.loginLog.Allow() {
				c.log.Info("iproto authentication failed", "user", user, "err", err.Error())
			}
			return c.errorReply(sync, err)
		}
	}
	c.sess.setUser(user)
	c.log.Debug("iproto authenticated", "user", user)
	return iproto.EncodeOK(sync, c.srv.cfg.SchemaVersion(), nil)
}

// id serves ID: protocol version 3, no optional features, chap-sha1.
func (c *conn) id(packet []byte, sync uint64) []byte {
	req, err := iproto.DecodeRequest(packet)
	if err == nil {
		_, err = req.IDVersion()
	}
	if err == nil {
		_, err = req.IDFeatures()
	}
	if err == nil {
		_, err = req.IDAuthType()
	}
	if err != nil {
		return c.errorReply(sync, err)
	}
	return iproto.EncodeIDReply(sync, c.srv.cfg.SchemaVersion(), iproto.ProtocolVersion, serverFeatures)
}

// ping serves PING.
func (c *conn) ping(packet []byte, sync uint64) []byte {
	if _, err := iproto.DecodeRequest(packet); err != nil {
		return c.errorReply(sync, err)
	}
	return iproto.EncodeOK(sync, c.srv.cfg.SchemaVersion(), nil)
}

// errorReply encodes err as an error reply: a *net.Error or
// *iproto.DecodeError with its code, anything else as CodeUnknown.
func (c *conn) errorReply(sync uint64, err error) []byte {
	sv := c.srv.cfg.SchemaVersion()
	var ne *pnet.Error
	var de *iproto.DecodeError
	switch {
	case errors.As(err, &ne):
		return iproto.EncodeErrorFields(sync, sv, ne.Code, ne.Message, ne.Fields)
	case errors.As(err, &de):
		return iproto.EncodeError(sync, sv, de.Code, de.Message)
	default:
		return iproto.EncodeError(sync, sv, iproto.CodeUnknown, err.Error())
	}
}

func passwordMismatch(user string) string {
	return fmt.Sprintf("Incorrect password supplied for user '%s'", user)
}

func unknownType(typ uint64) string {
	return fmt.Sprintf("Unknown request type %d", typ)
}
