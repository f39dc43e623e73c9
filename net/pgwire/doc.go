// Package pgwire serves PostgreSQL's frontend/backend protocol (version
// 3.0, and 3.2's longer cancel keys) so that PostgreSQL clients — psql,
// pgx, libpq-based drivers — can talk to picogo.
//
// It owns the sockets and everything about a connection that is not a
// statement's meaning; messages are read and written with pgx's pgproto3
// and values converted with pgtype:
//   - the startup: SSL and GSS encryption requests are declined ('N': no
//     TLS here), the startup message names the user (required) and a
//     database (any name is accepted: there is one database), protocol
//     options (_pq_.*) are declined with NegotiateProtocolVersion, other
//     startup parameters are taken as SET (ignored if they cannot be set:
//     the client learns the values from ParameterStatus);
//   - authentication by SCRAM-SHA-256 (without channel binding) or MD5:
//     this package runs the exchange and hands the client's proof to the
//     Backend, which holds the secrets and checks it;
//   - cancellation: every session gets a random process id and secret key
//     (BackendKeyData); a CancelRequest that matches cancels the context of
//     the statement running, which then fails with 57014;
//   - the simple query protocol (a message's statements cut by
//     parse.SplitAll and run in order up to the first failure) and the
//     extended one (named and unnamed statements and portals, parameters
//     in text or binary format, per-column result formats, Execute with a
//     row limit and PortalSuspended, errors discarding messages up to
//     Sync);
//   - the conversion of picogo's types to PostgreSQL's (see typeOID) and of
//     values both ways, in text as PostgreSQL prints them and in binary; a
//     parameter the Backend can give no type ("any") is described as
//     unspecified (OID 0) rather than PostgreSQL's text, so that clients
//     send any value in text and the Backend receives a string;
//   - session statements, which are the protocol's business: SET, RESET,
//     SHOW, DISCARD, DEALLOCATE, and the transaction statements, which are
//     accepted as no-ops with a warning (picogo has no transactions: each
//     statement commits on its own, and ReadyForQuery is always idle);
//   - refusing, with a clear 0A000, statements that read PostgreSQL's
//     catalog (pg_catalog, information_schema, psql's \d queries), which
//     picogo does not have.
//
// It does not run SQL: every other statement goes to the Backend (Run, and
// Describe when it is prepared), which the daemon implements with the
// instance's node; the Backend's *Error reaches the client as it is.
// Command tags are made here from the statement's first words.
//
// Not supported: TLS and GSSAPI, COPY, the function call message,
// LISTEN/NOTIFY, transactions (BEGIN..COMMIT group nothing), cursors and
// PostgreSQL's catalog, client encodings other than UTF8 and date styles
// other than ISO. A statement's whole result is computed by Run before its
// first row is sent; Execute's row limit only paces the sending.
//
// One goroutine serves each connection; a Backend call blocks the
// connection's next message, not others. While a statement runs, the
// connection is watched (one byte read ahead, kept for the protocol) so
// that a client that goes away cancels it, as Server.Close and a
// CancelRequest do. Nothing read from a socket can
// make this package panic: a malformed or oversized message is answered
// with a FATAL 08P01 and closes its connection only.
package pgwire
