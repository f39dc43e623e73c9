package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"
	"github.com/google/uuid"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/auth"
	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/net/pgwire"
	"github.com/picogo/picogo/runtime"
)

// pgBackend is the database behind PostgreSQL's protocol (net/pgwire): a
// statement runs as `.proc_sql` would, on the event loop, for the
// session's user; logins go through the same rules as iproto's (core/auth:
// lockout, throttling). Connection goroutines call it and wait.
type pgBackend struct{ d *daemon }

// onLoop runs fn on the event loop and waits for it; false if the
// instance stopped first.
func (b pgBackend) onLoop(fn func()) bool {
	done := make(chan struct{})
	b.d.post(func() { fn(); close(done) })
	select {
	case <-done:
		return true
	case <-b.d.proc.Done():
		return false
	}
}

var errStopping = &pgwire.Error{Severity: "FATAL", Code: "57P01", Message: "the instance is stopping"}

// SCRAMSalt implements pgwire.Authenticator.
func (b pgBackend) SCRAMSalt(_ *pgwire.Session, user string) (salt []byte, iterations int) {
	b.onLoop(func() { salt, iterations = b.d.proc.Host().SCRAMSalt(user) })
	if salt == nil {
		salt, iterations = make([]byte, auth.SaltSize), auth.SCRAMIterations // stopping: the login fails anyway
	}
	return salt, iterations
}

// Authenticate implements pgwire.Authenticator: the login rules of
// iproto's AUTH, with PostgreSQL's proof.
func (b pgBackend) Authenticate(s *pgwire.Session, user string, proof pgwire.Proof) ([]byte, error) {
	a := auth.Attempt{User: user, Address: clientHost(s.RemoteAddr)}
	switch p := proof.(type) {
	case pgwire.MD5Proof:
		a.Proof = auth.MD5{Salt: p.Salt, Response: p.Response}
	case pgwire.SCRAMProof:
		a.Proof = auth.SCRAM{AuthMessage: p.AuthMessage, ClientProof: p.ClientProof}
	default:
		return nil, &pgwire.Error{Severity: "FATAL", Code: "28000", Message: fmt.Sprintf("unknown proof %T", proof)}
	}
	v, err := authenticator(b).login(a, s.Done)
	if err != nil {
		return nil, errStopping
	}
	if v.Err == nil {
		return v.ServerSignature, nil
	}
	e := &pgwire.Error{Severity: "FATAL", Code: "28000", Message: v.Err.Message}
	if v.Err.Code == iproto.CodePasswordMismatch || v.Err.Code == iproto.CodeNoSuchUser {
		// PostgreSQL's words, for a wrong password and an unknown user
		// alike: a client learns nothing of who exists.
		e.Code, e.Message = "28P01", fmt.Sprintf("password authentication failed for user %q", user)
	}
	return nil, e
}

// Run implements pgwire.Backend. A cancelled statement stops being waited
// for: the client hears 57014 at once, but a write already proposed may
// still apply (picogo has no transactions to roll it back).
func (b pgBackend) Run(ctx context.Context, s *pgwire.Session, query string, params []any) (*pgwire.Result, error) {
	values := make([]any, len(params))
	for i, p := range params {
		v, err := fromPG(p)
		if err != nil {
			return nil, &pgwire.Error{Code: "22P02", Message: fmt.Sprintf("parameter $%d: %v", i+1, err)}
		}
		values[i] = v
	}
	type answer struct {
		res api.SQLResult
		err *api.Error
	}
	a, err := ask(b.d, ctx, func(h *runtime.Host, done func(answer)) {
		h.SQL(s.User, api.SQL{Query: query, Params: values}, func(res api.SQLResult, e *api.Error) { done(answer{res, e}) })
	})
	switch {
	case errors.Is(err, errInstanceStopping):
		return nil, errStopping
	case err != nil:
		return nil, &pgwire.Error{Code: "57014", Message: "canceling statement due to user request"}
	}
	if a.err != nil {
		return nil, pgError(query, a.err)
	}
	res := &pgwire.Result{Query: a.res.Query, RowCount: a.res.RowCount}
	for _, c := range a.res.Metadata {
		res.Columns = append(res.Columns, pgwire.Column{Name: c.Name, Type: c.Type})
	}
	res.Rows = make([][]any, len(a.res.Rows))
	for i, row := range a.res.Rows {
		out := make([]any, len(row))
		for j, v := range row {
			out[j] = toPG(v)
		}
		res.Rows[i] = out
	}
	return res, nil
}

// Describe implements pgwire.Backend.
func (b pgBackend) Describe(_ context.Context, s *pgwire.Session, query string) (*pgwire.Description, error) {
	var d *exec.Description
	var e *api.Error
	if !b.onLoop(func() { d, e = b.d.proc.Host().DescribeSQL(s.User, query) }) {
		return nil, errStopping
	}
	if e != nil {
		return nil, pgError(query, e)
	}
	out := &pgwire.Description{Query: d.Query}
	for _, t := range d.Params {
		out.Params = append(out.Params, string(t))
	}
	for _, c := range d.Columns {
		out.Columns = append(out.Columns, pgwire.Column{Name: c.Name, Type: string(c.Type)})
	}
	return out, nil
}

// fromPG is a parameter's value as picogo's SQL takes it.
func fromPG(v any) (any, error) {
	switch v := v.(type) {
	case time.Time:
		return tuple.DatetimeOf(v), nil
	case pgwire.UUID:
		return uuid.UUID(v), nil
	case pgwire.Numeric:
		d, err := tuple.ParseDecimal(string(v))
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	return v, nil
}

// toPG is a result's value as net/pgwire writes it: integers as int64
// (uint64 above its range; msgpack decodes a storage's small integers as
// int8 and the like), decimals as text, uuids and datetimes as theirs.
func toPG(v any) any {
	if i, ok := tuple.AsInt64(v); ok {
		return i
	}
	if u, ok := tuple.AsUint64(v); ok {
		return u
	}
	switch v := v.(type) {
	case float32:
		return float64(v)
	case *apd.Decimal:
		return pgwire.Numeric(v.Text('f'))
	case uuid.UUID:
		return pgwire.UUID(v)
	case tuple.Datetime:
		return v.Time()
	}
	return v
}

// sqlStates are the SQLSTATEs of picogo's error codes, by the meaning
// PostgreSQL gives them (XX000, internal_error, for the rest).
var sqlStates = map[uint32]string{
	tuple.CodeSQLSyntax:          "42601", // syntax_error
	tuple.CodeNoSuchSpace:        "42P01", // undefined_table
	tuple.CodeSQLUnknownColumn:   "42703", // undefined_column
	tuple.CodeSQLAmbiguousColumn: "42702", // ambiguous_column
	tuple.CodeSQLUnknownFunction: "42883", // undefined_function
	tuple.CodeSQLWrongArgCount:   "42883",
	tuple.CodeSQLTypeMismatch:    "42804", // datatype_mismatch
	tuple.CodeTupleFound:         "23505", // unique_violation
	tuple.CodeAccessDenied:       "42501", // insufficient_privilege
	tuple.CodeSQLDivisionByZero:  "22012", // division_by_zero
	tuple.CodeSQLIntegerOverflow: "22003", // numeric_value_out_of_range
	tuple.CodeSQLDecimalOverflow: "22003",
	tuple.CodeSQLInvalidCast:     "22P02", // invalid_text_representation
	tuple.CodeSQLInvalidArgument: "22023", // invalid_parameter_value
	tuple.CodeIllegalParams:      "22023",
	tuple.CodeSQLMotionLimit:     "54000", // program_limit_exceeded
	tuple.CodeSpaceExists:        "42P07", // duplicate_table
	tuple.CodeIndexExists:        "42P07",
	tuple.CodeUserExists:         "42710", // duplicate_object
	tuple.CodeRoleExists:         "42710",
	tuple.CodeNoSuchUser:         "42704", // undefined_object
	tuple.CodeNoSuchRole:         "42704",
	tuple.CodeNoSuchIndexName:    "42704",
	tuple.CodeUnsupported:        "0A000", // feature_not_supported
	api.CodeTimeout:              "57014", // query_canceled (as statement_timeout)
	api.CodeReadonly:             "25006", // read_only_sql_transaction
}

// pgError is an error of query as PostgreSQL's protocol carries it: its
// SQLSTATE, picogo's code in the detail, and for an error picogo's SQL
// places ("line L, column C" in its message) the position in query.
func pgError(query string, e *api.Error) *pgwire.Error {
	code, ok := sqlStates[e.Code]
	switch {
	case e.Code == tuple.CodeFieldType && strings.Contains(e.Message, "NOT NULL"):
		code = "23502" // not_null_violation
	case !ok:
		code = "XX000"
	}
	return &pgwire.Error{Code: code, Message: e.Message, Detail: fmt.Sprintf("picogo error code %d", e.Code),
		Position: position(query, e.Message)}
}

// position is where in query (1-based, in characters, as PostgreSQL's
// P field) the error message's "line L, column C" (C in bytes, as
// core/sql/parse counts) points; 0 if it names none or out of range.
func position(query, message string) int {
	i := strings.LastIndex(message, "line ")
	if i < 0 {
		return 0
	}
	var line, col int
	if n, _ := fmt.Sscanf(message[i:], "line %d, column %d", &line, &col); n != 2 || line < 1 || col < 1 {
		return 0
	}
	off := 0
	for range line - 1 {
		nl := strings.IndexByte(query[off:], '\n')
		if nl < 0 {
			return 0
		}
		off += nl + 1
	}
	off += col - 1
	if off > len(query) {
		return 0
	}
	return utf8.RuneCountInString(query[:off]) + 1
}

var _ pgwire.Backend = pgBackend{}
