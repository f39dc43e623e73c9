// Package tcp carries iproto (the Tarantool binary protocol, package
// net/iproto) over TCP: a Server that accepts client and peer connections
// and a Pool of outgoing connections that implements net.Transport.
//
// It owns the sockets and everything about a connection that is not a
// request's meaning:
//   - the server side: the greeting with a fresh salt per connection, the
//     session (its user), AUTH (chap-sha1, checked by an Authenticator), ID
//     and PING; every other request goes to ServerConfig.Serve with a reply
//     callback. One reader and one writer goroutine per connection; replies
//     are queued in a bounded outbox (outbox.go: the replies to a burst of
//     pipelined requests leave with one write) and a client that does not
//     read them is disconnected rather than allowed to block whoever
//     replies (the daemon's event loop).
//   - the client side: one authenticated connection per address, dialled on
//     first use and again after a failure (with backoff between failed
//     dials), requests pipelined and their responses matched by SYNC,
//     timeouts, and a synchronous Call helper for command-line tools.
//
// Frames are checked only as far as routing needs (header.go reads the
// REQUEST_TYPE and SYNC of a packet); bodies are the codec's and the
// handler's business. Nothing read from a socket can make this package
// panic.
package tcp
