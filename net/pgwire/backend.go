package pgwire

import (
	"context"
	"fmt"
)

// Session is one client connection once its startup message is read.
type Session struct {
	// User is the startup message's user (the one authenticated, once
	// Authenticate has accepted it).
	User string
	// Database is the startup message's database: any name maps to the
	// cluster.
	Database string
	// RemoteAddr is the client's address (host:port).
	RemoteAddr string
	// Done is closed when the connection closes.
	Done <-chan struct{}
}

// Backend is the database behind the protocol: the driver (cmd/picogo)
// implements it with the instance's node. Its methods are called from
// connection goroutines and may block; ctx is cancelled when the client
// cancels the statement (CancelRequest) or the connection closes.
type Backend interface {
	Authenticator
	// Run runs one SQL statement as s.User with its parameters (values as
	// Param describes) and answers its result.
	//
	// query is one statement, without its ';' and the white space and
	// comments before it (an error's Position counts in it; the server
	// moves it to the client's text). The session statements (SET, SHOW,
	// BEGIN...) and statements reading PostgreSQL's catalog never reach
	// it. params is nil in the simple protocol, whose values are literals
	// in the text. In the extended protocol, the result must be what
	// Describe said (a query or not, and as many columns): its values are
	// encoded by the described column types.
	Run(ctx context.Context, s *Session, query string, params []any) (*Result, error)
	// Describe answers what one statement takes and returns, without
	// running it: the types of its parameters ($1 is Params[0]; "any" when
	// nothing in the statement says) and, for a query, its columns.
	//
	// It is called on every Parse of the extended protocol, before Run,
	// so that errors in the statement come at Parse as in PostgreSQL. It
	// must count every $n the statement uses: a client sends as many
	// values as Params has. A parameter described as "any" is described
	// to the client as unspecified, and its value reaches Run as a string
	// (the client's text form of whatever it had).
	Describe(ctx context.Context, s *Session, query string) (*Description, error)
}

// Authenticator checks passwords: the server runs the exchange of the
// method it is configured with and hands the client's proof over.
type Authenticator interface {
	// SCRAMSalt is the salt and iteration count of user's SCRAM-SHA-256
	// secret, for the server-first message. For a user that does not exist
	// or has no such secret it is a made-up pair, the same for the same
	// user, so that the exchange does not tell which users exist: the
	// refusal comes from Authenticate.
	SCRAMSalt(s *Session, user string) (salt []byte, iterations int)
	// Authenticate checks proof (an MD5Proof or a SCRAMProof) for user.
	// For SCRAM it answers the server signature (the server-final
	// message's v=). It may block to hold a refusal back; its error, an
	// *Error (28P01 for a wrong password), is sent to the client.
	Authenticate(s *Session, user string, proof Proof) (serverSignature []byte, err error)
}

// Proof is what a client sent to prove it knows a password.
type Proof interface{ proof() }

// MD5Proof is an MD5 password message: Response is
// "md5" + hex(md5(hex(md5(password + user)) + Salt)).
type MD5Proof struct {
	Salt     [4]byte
	Response string
}

// SCRAMProof is SCRAM-SHA-256's client-final message, checked against the
// user's stored key: ClientProof is the p= attribute, decoded; AuthMessage
// is client-first-bare + "," + server-first + "," +
// client-final-without-proof (RFC 5802).
type SCRAMProof struct {
	AuthMessage []byte
	ClientProof []byte
}

func (MD5Proof) proof()   {}
func (SCRAMProof) proof() {}

// Column is a result column: its name and picogo SQL type ("integer",
// "unsigned", "double", "decimal", "number", "string", "boolean", "uuid",
// "datetime", "varbinary", "any", "scalar", "map", "array").
type Column struct {
	Name string
	Type string
}

// Result is what one statement answers: a query's columns and rows, or
// the number of rows another statement changed (Query false). The server
// makes the command tag from the statement's first words and RowCount.
//
// Row values are nil, int64, uint64, float64, bool, string, []byte,
// time.Time, UUID, Numeric, or anything else (map, array), which is sent
// as text (fmt's %v of it).
type Result struct {
	Query    bool
	Columns  []Column
	Rows     [][]any
	RowCount uint64
}

// Description is what a statement takes and returns (Backend.Describe).
type Description struct {
	Params  []string // picogo SQL types of $1, $2, ...
	Query   bool
	Columns []Column
}

// Param values, as Run receives them: nil, int64, float64, bool, string,
// []byte, time.Time (in UTC), UUID, Numeric, decoded from the client's
// text or binary format by the parameter's type: the type the client gave
// in Parse if it gave one (int2/int4/int8 are int64, float4/float8
// float64, numeric Numeric, text/varchar/bpchar/name/unknown string,
// timestamp/timestamptz/date time.Time, types this package does not know
// their text as a string), else the type Describe said.

// UUID is a uuid value.
type UUID [16]byte

// Numeric is a decimal number as text ("-12.5"): numeric's values.
type Numeric string

// Error is an error as ErrorResponse carries it.
type Error struct {
	// Severity: "ERROR" if empty ("FATAL" ends the connection).
	Severity string
	// Code is the SQLSTATE (e.g. "42601").
	Code    string
	Message string
	// Position, if not 0, is where in the statement's text the error is:
	// a 1-based index in characters, as PostgreSQL's P field.
	Position int
	Detail   string
	Hint     string
}

func (e *Error) Error() string { return fmt.Sprintf("%s (SQLSTATE %s)", e.Message, e.Code) }
