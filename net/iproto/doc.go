// Package iproto is picogo's codec for the Tarantool binary protocol
// (iproto): the bytes on the wire and nothing else. Sockets, sessions and
// dispatch come later, in the transport built on top of it.
//
// It owns:
//   - the 128-byte greeting a server sends first (greeting.go);
//   - chap-sha1 authentication (chap.go);
//   - framing: a msgpack uint length, a header map, an optional body map
//     (frame.go);
//   - the server side: decoding requests (request.go) and encoding replies
//     (reply.go, call16.go);
//   - the client side picogo instances use to call each other: encoding
//     requests (client.go) and decoding replies (response.go).
//
// Decoders read every integer generically (any msgpack width, signed or not,
// as long as it is not negative), accept keys in any order, ignore unknown
// keys and never panic: a truncated or garbled packet is an error wrapping
// ErrMalformed. Encoders write the compact forms real servers and clients
// write, so replies are byte-identical to the ones observed against Tarantool
// clients (see /work/shared/notes/iproto.md).
package iproto
