package pgwire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/picogo/picogo/core/sql/parse"
)

// conn is one client connection: its goroutine reads a message, handles
// it and answers before it reads the next, so the statements of a
// connection run in order.
type conn struct {
	srv *Server
	nc  net.Conn
	be  *pgproto3.Backend
	log *slog.Logger

	ctx       context.Context // cancelled when the connection closes
	cancelCtx context.CancelFunc
	done      chan struct{} // Session.Done
	closeOnce sync.Once

	in     *connReader // what c.be reads
	sess   *Session
	pid    uint32 // BackendKeyData, set by Server.register
	secret []byte

	mu            sync.Mutex
	cancelRunning context.CancelCauseFunc // of the statement running, if any

	types    *pgtype.Map
	settings settings
	stmts    map[string]*prepared // by name; "" is the unnamed statement
	portals  map[string]*portal
	// failed: an extended-protocol message failed; the ones up to Sync are
	// discarded.
	failed bool
}

// prepared is a parsed statement of the extended protocol.
type prepared struct {
	query  string // the statement without its ';', "" for an empty query
	offset int    // characters before query in Parse's text, for error positions
	local  *localCommand
	desc   *Description
	params []uint32 // parameter type OIDs
	cols   []uint32 // column type OIDs, if desc.Query
}

// portal is a bound statement, and its result once executed.
type portal struct {
	stmt    *prepared
	params  []any
	formats []int16 // per column
	ran     bool
	res     *Result
	tag     string
	sent    int // rows of res sent so far
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{srv: s, nc: nc, log: s.log, ctx: ctx, cancelCtx: cancel, done: make(chan struct{}),
		types: pgtype.NewMap(), stmts: map[string]*prepared{}, portals: map[string]*portal{}}
	c.in = &connReader{nc: nc}
	c.be = pgproto3.NewBackend(c.in, nc)
	c.be.SetMaxBodyLen(s.cfg.MaxMessage)
	return c
}

// close closes the connection and cancels what it runs; it may be called
// from any goroutine, more than once.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		c.cancelCtx()
		c.nc.Close()
		close(c.done)
	})
}

func (c *conn) serve() {
	_ = c.nc.SetDeadline(time.Now().Add(startupTimeout))
	if !c.startup() {
		return
	}
	_ = c.nc.SetDeadline(time.Time{})
	c.loop()
}

// isIOError tells a failure of the socket (the client went away, the
// server closed it, a deadline) from a malformed message.
func isIOError(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, io.ErrClosedPipe) || errors.As(err, &ne)
}

// receiveFailed closes the connection after a failed read: silently if
// the socket failed, with a FATAL 08P01 if the message was bad.
func (c *conn) receiveFailed(err error) {
	if isIOError(err) {
		c.log.Debug("pgwire connection closed", "remote", c.nc.RemoteAddr().String(), "err", err)
		return
	}
	msg := err.Error()
	var tooBig *pgproto3.ExceededMaxBodyLenErr
	if errors.As(err, &tooBig) {
		msg = fmt.Sprintf("message of %d bytes exceeds the limit of %d bytes", tooBig.ActualBodyLen, tooBig.MaxExpectedBodyLen)
	}
	c.protocolViolation(msg)
}

// protocolViolation sends a FATAL 08P01 error; the caller closes the
// connection.
func (c *conn) protocolViolation(msg string) {
	if c.srv.violationLog.Allow() {
		c.log.Warn("pgwire connection closed for a protocol violation", "remote", c.nc.RemoteAddr().String(), "err", msg)
	}
	c.fatal(&Error{Code: "08P01", Message: "invalid frontend message: " + msg})
}

// fatal sends e as a FATAL error; the caller closes the connection.
func (c *conn) fatal(e *Error) {
	f := *e
	f.Severity = "FATAL"
	c.sendError(&f)
	_ = c.be.Flush()
}

func (c *conn) sendError(e *Error) {
	sev := e.Severity
	if sev == "" {
		sev = "ERROR"
	}
	c.be.Send(&pgproto3.ErrorResponse{Severity: sev, SeverityUnlocalized: sev, Code: e.Code,
		Message: e.Message, Detail: e.Detail, Hint: e.Hint, Position: int32(max(0, min(e.Position, 1<<31-1)))})
}

// loop serves messages after the startup until the connection ends.
func (c *conn) loop() {
	for {
		msg, err := c.be.Receive()
		if err != nil {
			c.receiveFailed(err)
			return
		}
		if c.failed {
			switch msg.(type) {
			case *pgproto3.Sync:
			case *pgproto3.Terminate:
				return
			default: // a Query too, as PostgreSQL does
				continue
			}
		}
		var e *Error
		switch m := msg.(type) {
		case *pgproto3.Query:
			c.simpleQuery(m.String)
		case *pgproto3.Parse:
			e = c.parseMessage(m)
		case *pgproto3.Bind:
			e = c.bind(m)
		case *pgproto3.Describe:
			e = c.describe(m)
		case *pgproto3.Execute:
			e = c.execute(m)
		case *pgproto3.Close:
			if m.ObjectType == 'S' {
				delete(c.stmts, m.Name)
			} else {
				delete(c.portals, m.Name)
			}
			c.be.Send(&pgproto3.CloseComplete{})
		case *pgproto3.Sync:
			c.failed = false
			clear(c.portals) // each statement is its own transaction: Sync ends it
			c.be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
			if c.be.Flush() != nil {
				return
			}
		case *pgproto3.Flush:
			if c.be.Flush() != nil {
				return
			}
		case *pgproto3.Terminate:
			return
		case *pgproto3.FunctionCall:
			c.sendError(&Error{Code: "0A000", Message: "picogo does not support the function call message"})
			c.be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
			if c.be.Flush() != nil {
				return
			}
		case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
			// Ignored outside COPY, as PostgreSQL does.
		default:
			c.protocolViolation(fmt.Sprintf("unexpected message %T", msg))
			return
		}
		if e != nil {
			// Sent at once, as PostgreSQL does: the client may be waiting
			// for it without a Sync or Flush.
			c.sendError(e)
			c.failed = true
			if c.be.Flush() != nil {
				return
			}
		}
		if c.ctx.Err() != nil {
			return
		}
	}
}

// simpleQuery runs a Query message's statements in order, up to the first
// that fails.
func (c *conn) simpleQuery(text string) {
	delete(c.stmts, "")
	clear(c.portals)
	stmts := parse.SplitAll(text)
	if len(stmts) == 0 {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
	}
	from := 0
	for _, st := range stmts {
		off := from
		if i := strings.Index(text[from:], st.Text); i >= 0 {
			off = from + i
			from = off + len(st.Text)
		}
		if e := c.simpleStatement(st.Text); e != nil {
			c.sendError(withOffset(e, utf8.RuneCountInString(text[:off])))
			break
		}
	}
	c.be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	_ = c.be.Flush()
}

// simpleStatement runs one statement of a Query message and sends its
// result in text format.
func (c *conn) simpleStatement(q string) *Error {
	local, e := parseLocal(q)
	if e != nil {
		return e
	}
	res, tag, e := c.run(q, local, nil)
	if e != nil {
		return e
	}
	if res.Query {
		cols := make([]uint32, len(res.Columns))
		for i, col := range res.Columns {
			cols[i] = typeOID(col.Type)
		}
		c.be.Send(rowDescription(res.Columns, cols, nil))
		if _, e := c.sendRows(res, cols, nil, 0, len(res.Rows)); e != nil {
			return e
		}
	}
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	return nil
}

// run runs one statement, a session command here or any other in the
// Backend, and answers its result and command tag.
func (c *conn) run(q string, local *localCommand, params []any) (*Result, string, *Error) {
	if local != nil {
		return c.runLocal(local)
	}
	ctx, release := c.statementContext()
	stopWatch := c.watchClient()
	res, err := c.srv.cfg.Backend.Run(ctx, c.sess, q, params)
	stopWatch()
	cause := context.Cause(ctx)
	release()
	if err != nil {
		return nil, "", toError(err, cause)
	}
	if res == nil {
		res = &Result{}
	}
	return res, commandTag(q, res), nil
}

// toError is err as the client gets it: an *Error as it is, a statement
// cancelled by the client as PostgreSQL says it, anything else as an
// internal error with its text.
func toError(err error, cause error) *Error {
	if errors.Is(cause, errUserCancel) {
		return &Error{Code: "57014", Message: "canceling statement due to user request"}
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: "XX000", Message: err.Error()}
}

// withOffset is e with its position moved by off characters: the
// statement's place in the message's text.
func withOffset(e *Error, off int) *Error {
	if e.Position <= 0 || off == 0 {
		return e
	}
	moved := *e
	moved.Position += off
	return &moved
}

// sendRows sends rows [from, to) of res as DataRows, with values encoded
// by cols' types in formats (text for all if nil). It answers how many it
// sent.
func (c *conn) sendRows(res *Result, cols []uint32, formats []int16, from, to int) (int, *Error) {
	for i := from; i < to; i++ {
		row := res.Rows[i]
		if len(row) != len(cols) {
			return i - from, &Error{Code: "XX000", Message: fmt.Sprintf("row %d has %d values for %d columns", i+1, len(row), len(cols))}
		}
		values := make([][]byte, len(row))
		for j, v := range row {
			format := int16(0)
			if formats != nil {
				format = formats[j]
			}
			b, e := c.encodeValue(v, cols[j], format)
			if e != nil {
				return i - from, e
			}
			values[j] = b
		}
		c.be.Send(&pgproto3.DataRow{Values: values})
		if (i-from)%256 == 255 {
			if err := c.be.Flush(); err != nil {
				return i - from, &Error{Code: "08006", Message: err.Error()}
			}
		}
	}
	return to - from, nil
}

// rowDescription describes columns of types cols in formats (text if nil).
func rowDescription(columns []Column, cols []uint32, formats []int16) *pgproto3.RowDescription {
	fields := make([]pgproto3.FieldDescription, len(columns))
	for i, col := range columns {
		f := int16(0)
		if formats != nil {
			f = formats[i]
		}
		fields[i] = pgproto3.FieldDescription{Name: []byte(col.Name), DataTypeOID: cols[i],
			DataTypeSize: typeSize(cols[i]), TypeModifier: -1, Format: f}
	}
	return &pgproto3.RowDescription{Fields: fields}
}

// parseMessage handles Parse: the statement is described by the Backend
// now, so that its errors come here, as in PostgreSQL.
func (c *conn) parseMessage(m *pgproto3.Parse) *Error {
	if m.Name != "" {
		if _, ok := c.stmts[m.Name]; ok {
			return &Error{Code: "42P05", Message: fmt.Sprintf("prepared statement %q already exists", m.Name)}
		}
	}
	p, e := c.prepare(m.Query, m.ParameterOIDs)
	if e != nil {
		return e
	}
	c.stmts[m.Name] = p
	c.be.Send(&pgproto3.ParseComplete{})
	return nil
}

func (c *conn) prepare(text string, oids []uint32) (*prepared, *Error) {
	stmts := parse.SplitAll(text)
	if len(stmts) > 1 {
		return nil, &Error{Code: "42601", Message: "cannot insert multiple commands into a prepared statement"}
	}
	p := &prepared{desc: &Description{}}
	if len(stmts) == 1 {
		p.query = stmts[0].Text
		if i := strings.Index(text, p.query); i > 0 {
			p.offset = utf8.RuneCountInString(text[:i])
		}
	}
	if p.query != "" {
		local, e := parseLocal(p.query)
		if e != nil {
			return nil, e
		}
		p.local = local
		if local != nil {
			p.desc = c.describeLocal(local)
		} else {
			ctx, release := c.statementContext()
			desc, err := c.srv.cfg.Backend.Describe(ctx, c.sess, p.query)
			cause := context.Cause(ctx)
			release()
			if err != nil {
				return nil, withOffset(toError(err, cause), p.offset)
			}
			if desc == nil {
				desc = &Description{}
			}
			p.desc = desc
		}
	}
	p.params = make([]uint32, max(len(oids), len(p.desc.Params)))
	for i := range p.params {
		if i < len(p.desc.Params) {
			p.params[i] = paramOID(p.desc.Params[i])
		}
		if i < len(oids) && oids[i] != 0 {
			p.params[i] = oids[i]
		}
	}
	if p.desc.Query {
		p.cols = make([]uint32, len(p.desc.Columns))
		for i, col := range p.desc.Columns {
			p.cols[i] = typeOID(col.Type)
		}
	}
	return p, nil
}

// bind handles Bind: decodes the parameters by their types and formats.
func (c *conn) bind(m *pgproto3.Bind) *Error {
	p, ok := c.stmts[m.PreparedStatement]
	if !ok {
		return &Error{Code: "26000", Message: fmt.Sprintf("prepared statement %q does not exist", m.PreparedStatement)}
	}
	if m.DestinationPortal != "" {
		if _, ok := c.portals[m.DestinationPortal]; ok {
			return &Error{Code: "42P03", Message: fmt.Sprintf("portal %q already exists", m.DestinationPortal)}
		}
	}
	if len(m.Parameters) != len(p.params) {
		return &Error{Code: "08P01", Message: fmt.Sprintf("bind message supplies %d parameters, but prepared statement %q requires %d",
			len(m.Parameters), m.PreparedStatement, len(p.params))}
	}
	pf := m.ParameterFormatCodes
	if len(pf) > 1 && len(pf) != len(m.Parameters) {
		return &Error{Code: "08P01", Message: fmt.Sprintf("bind message has %d parameter formats but %d parameters", len(pf), len(m.Parameters))}
	}
	params := make([]any, len(m.Parameters))
	for i, data := range m.Parameters {
		format := formatAt(pf, i)
		if format != 0 && format != 1 {
			return &Error{Code: "08P01", Message: fmt.Sprintf("unsupported format code: %d", format)}
		}
		if data == nil {
			continue
		}
		v, e := c.decodeParam(p.params[i], format, data, i+1)
		if e != nil {
			return e
		}
		params[i] = v
	}
	ncols := len(p.cols)
	rf := m.ResultFormatCodes
	if len(rf) > 1 && len(rf) != ncols {
		return &Error{Code: "08P01", Message: fmt.Sprintf("bind message has %d result formats but query has %d columns", len(rf), ncols)}
	}
	formats := make([]int16, ncols)
	for i := range formats {
		formats[i] = formatAt(rf, i)
		if formats[i] != 0 && formats[i] != 1 {
			return &Error{Code: "22023", Message: fmt.Sprintf("unsupported format code: %d", formats[i])}
		}
	}
	c.portals[m.DestinationPortal] = &portal{stmt: p, params: params, formats: formats}
	c.be.Send(&pgproto3.BindComplete{})
	return nil
}

// formatAt is the format code of value i: none given is text, one is for
// all.
func formatAt(codes []int16, i int) int16 {
	switch {
	case len(codes) == 0:
		return 0
	case len(codes) == 1:
		return codes[0]
	case i < len(codes):
		return codes[i]
	}
	return 0
}

func (c *conn) describe(m *pgproto3.Describe) *Error {
	if m.ObjectType == 'S' {
		p, ok := c.stmts[m.Name]
		if !ok {
			return &Error{Code: "26000", Message: fmt.Sprintf("prepared statement %q does not exist", m.Name)}
		}
		c.be.Send(&pgproto3.ParameterDescription{ParameterOIDs: p.params})
		if p.desc.Query {
			c.be.Send(rowDescription(p.desc.Columns, p.cols, nil))
		} else {
			c.be.Send(&pgproto3.NoData{})
		}
		return nil
	}
	pt, ok := c.portals[m.Name]
	if !ok {
		return &Error{Code: "34000", Message: fmt.Sprintf("portal %q does not exist", m.Name)}
	}
	if pt.stmt.desc.Query {
		c.be.Send(rowDescription(pt.stmt.desc.Columns, pt.stmt.cols, pt.formats))
	} else {
		c.be.Send(&pgproto3.NoData{})
	}
	return nil
}

// execute handles Execute: the statement runs on the portal's first
// Execute; its rows go out at most MaxRows at a time.
func (c *conn) execute(m *pgproto3.Execute) *Error {
	pt, ok := c.portals[m.Portal]
	if !ok {
		return &Error{Code: "34000", Message: fmt.Sprintf("portal %q does not exist", m.Portal)}
	}
	p := pt.stmt
	if p.query == "" {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	if !pt.ran {
		res, tag, e := c.run(p.query, p.local, pt.params)
		if e != nil {
			return withOffset(e, p.offset)
		}
		if res.Query != p.desc.Query || res.Query && len(res.Columns) != len(p.cols) {
			return &Error{Code: "XX000", Message: fmt.Sprintf("the statement's result (%d columns) is not what it was described as (%d)", len(res.Columns), len(p.cols))}
		}
		pt.ran, pt.res, pt.tag = true, res, tag
	}
	res := pt.res
	if res.Query {
		to := len(res.Rows)
		if m.MaxRows > 0 && uint64(to-pt.sent) > uint64(m.MaxRows) {
			to = pt.sent + int(m.MaxRows)
		}
		n, e := c.sendRows(res, p.cols, pt.formats, pt.sent, to)
		pt.sent += n
		if e != nil {
			return e
		}
		if pt.sent < len(res.Rows) {
			c.be.Send(&pgproto3.PortalSuspended{})
			return nil
		}
	}
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(pt.tag)})
	return nil
}

// connReader is the connection as the protocol reads it: bytes read by
// watchClient come first.
type connReader struct {
	nc      net.Conn
	pending []byte
}

func (r *connReader) Read(p []byte) (int, error) {
	if len(r.pending) > 0 {
		n := copy(p, r.pending)
		r.pending = r.pending[n:]
		return n, nil
	}
	return r.nc.Read(p)
}

// errClientGone is the cause of a statement's context cancelled because
// its client closed the connection.
var errClientGone = errors.New("the client closed the connection")

// watchClient notices, while a statement runs, that the client closed the
// connection, and cancels the statement. It reads one byte ahead (kept
// for the protocol) until stop, which interrupts the read with a
// deadline.
func (c *conn) watchClient() (stop func()) {
	c.mu.Lock()
	cancel := c.cancelRunning
	c.mu.Unlock()
	done := make(chan struct{})
	var b [1]byte
	var n int
	go func() {
		defer close(done)
		var err error
		n, err = c.nc.Read(b[:])
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) && cancel != nil {
			cancel(errClientGone)
		}
	}()
	return func() {
		_ = c.nc.SetReadDeadline(time.Now())
		<-done
		_ = c.nc.SetReadDeadline(time.Time{})
		if n > 0 {
			c.in.pending = append(c.in.pending, b[:n]...)
		}
	}
}
