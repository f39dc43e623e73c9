package pgwire

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/picogo/picogo/core/sql/parse"
)

// Session statements: SET, RESET, SHOW, the transaction statements,
// DISCARD and DEALLOCATE are the protocol's business, not the database's,
// and are handled here in both protocols; so is the refusal of
// statements that read PostgreSQL's catalog.

// reportedParams are the settings a client is told of (ParameterStatus)
// after the login and whenever they change.
var reportedParams = []string{"server_version", "server_encoding", "client_encoding", "DateStyle", "TimeZone",
	"integer_datetimes", "standard_conforming_strings", "application_name", "is_superuser", "session_authorization"}

// param is a setting PostgreSQL clients know.
type param struct {
	name     string // as SHOW prints it
	reported bool
	readOnly bool
	// check, if set, validates a value and answers its canonical form.
	check func(s *settings, value string) (string, *Error)
}

var knownParams = map[string]param{}

func init() {
	for _, p := range []param{
		{name: "application_name", reported: true},
		{name: "client_encoding", reported: true, check: checkEncoding},
		{name: "DateStyle", reported: true, check: checkDateStyle},
		{name: "TimeZone", reported: true, check: checkTimeZone},
		{name: "integer_datetimes", reported: true, readOnly: true},
		{name: "is_superuser", reported: true, readOnly: true},
		{name: "server_encoding", reported: true, readOnly: true},
		{name: "server_version", reported: true, readOnly: true},
		{name: "session_authorization", reported: true, readOnly: true},
		{name: "standard_conforming_strings", reported: true, check: checkOn},
		{name: "IntervalStyle"},
		{name: "search_path"},
		{name: "extra_float_digits"},
		{name: "statement_timeout"},
		{name: "lock_timeout"},
		{name: "idle_in_transaction_session_timeout"},
		{name: "max_identifier_length", readOnly: true},
		{name: "transaction_isolation", readOnly: true},
	} {
		knownParams[strings.ToLower(p.name)] = p
	}
}

// settings are a session's parameters, by lower-case name.
type settings struct {
	defaults map[string]string
	values   map[string]string
	names    map[string]string // lower-case name → the name as first set, for SHOW
	loc      *time.Location    // TimeZone's
}

func newSettings(serverVersion, user string) settings {
	return settings{
		defaults: map[string]string{
			"application_name": "", "client_encoding": "UTF8", "datestyle": "ISO, MDY", "timezone": "UTC",
			"integer_datetimes": "on", "is_superuser": "off", "server_encoding": "UTF8",
			"server_version": serverVersion, "session_authorization": user, "standard_conforming_strings": "on",
			"intervalstyle": "postgres", "search_path": `"$user", public`, "extra_float_digits": "1",
			"statement_timeout": "0", "lock_timeout": "0", "idle_in_transaction_session_timeout": "0",
			"max_identifier_length": "63", "transaction_isolation": "read committed",
		},
		values: map[string]string{}, names: map[string]string{}, loc: time.UTC,
	}
}

// get is a setting's value ("" and false if unknown).
func (s *settings) lookup(name string) (string, bool) {
	key := strings.ToLower(name)
	if v, ok := s.values[key]; ok {
		return v, true
	}
	v, ok := s.defaults[key]
	return v, ok
}

func (s *settings) get(name string) string {
	v, _ := s.lookup(name)
	return v
}

// set sets a setting to value; it answers the name of a reported setting
// that changed ("" if none).
func (s *settings) set(name, value string) (string, *Error) {
	key := strings.ToLower(name)
	p, known := knownParams[key]
	if p.readOnly {
		return "", &Error{Code: "55P02", Message: fmt.Sprintf("parameter %q cannot be changed", p.name)}
	}
	if p.check != nil {
		v, e := p.check(s, value)
		if e != nil {
			return "", e
		}
		value = v
	}
	old, _ := s.lookup(key)
	s.values[key] = value
	if !known {
		if _, ok := s.names[key]; !ok {
			s.names[key] = key
		}
	}
	if key == "timezone" {
		s.loc = zone(value)
	}
	if p.reported && old != value {
		return p.name, nil
	}
	return "", nil
}

// reset sets a setting back to its default; the answer is as set's.
func (s *settings) reset(name string) string {
	key := strings.ToLower(name)
	old, _ := s.lookup(key)
	delete(s.values, key)
	if key == "timezone" {
		s.loc = time.UTC
	}
	p := knownParams[key]
	if now, _ := s.lookup(key); p.reported && old != now {
		return p.name
	}
	return ""
}

func invalidValue(name, value, hint string) *Error {
	return &Error{Code: "22023", Message: fmt.Sprintf("invalid value for parameter %q: %q", name, value), Hint: hint}
}

func checkEncoding(_ *settings, v string) (string, *Error) {
	switch strings.ToUpper(strings.NewReplacer("-", "", "_", "").Replace(v)) {
	case "UTF8", "UNICODE":
		return "UTF8", nil
	}
	return "", invalidValue("client_encoding", v, "picogo speaks UTF8 only.")
}

func checkOn(_ *settings, v string) (string, *Error) {
	if b, ok := parseBool(v); ok && b {
		return "on", nil
	}
	return "", invalidValue("standard_conforming_strings", v, "picogo's strings are standard conforming only.")
}

// checkDateStyle accepts the ISO output style (the one picogo prints)
// with any field order.
func checkDateStyle(_ *settings, v string) (string, *Error) {
	u := strings.ToUpper(v)
	if !strings.Contains(u, "ISO") {
		return "", invalidValue("DateStyle", v, "picogo prints dates in the ISO style only.")
	}
	switch {
	case strings.Contains(u, "DMY"), strings.Contains(u, "EURO"):
		return "ISO, DMY", nil
	case strings.Contains(u, "YMD"):
		return "ISO, YMD", nil
	}
	return "ISO, MDY", nil
}

func checkTimeZone(_ *settings, v string) (string, *Error) {
	switch strings.ToUpper(v) {
	case "UTC", "GMT", "Z", "ZULU", "UCT", "ETC/UTC", "LOCAL", "DEFAULT":
		return "UTC", nil
	}
	if _, err := time.LoadLocation(v); err != nil || v == "" || strings.EqualFold(v, "Local") {
		return "", invalidValue("TimeZone", v, "Use a time zone name of the IANA database, such as Europe/Berlin.")
	}
	return v, nil
}

func zone(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil && name != "" && name != "Local" {
		return loc
	}
	return time.UTC
}

// localCommand is a statement pgwire handles itself.
type localCommand struct {
	verb  string // SET, RESET, SHOW, BEGIN, COMMIT, ROLLBACK, DISCARD, DEALLOCATE
	name  string // SET/RESET/SHOW's parameter ("ALL" for all); DEALLOCATE's statement
	value string // SET's
	reset bool   // SET name TO DEFAULT
	noop  bool   // SET TRANSACTION and friends
}

// parseLocal recognizes a session statement by its first words; nil, nil
// for a statement for the Backend. A statement reading PostgreSQL's
// catalog is refused here.
func parseLocal(q string) (*localCommand, *Error) {
	words := parse.FirstWords(q, 2)
	if len(words) == 0 {
		return nil, refuseCatalog(q)
	}
	switch words[0] {
	case "SET", "RESET", "SHOW", "DEALLOCATE", "DISCARD":
		return parseSessionStatement(q)
	case "BEGIN", "COMMIT", "END", "ROLLBACK", "ABORT":
		return txCommand(words[0]), nil
	case "START":
		if len(words) > 1 && words[1] == "TRANSACTION" {
			return txCommand("BEGIN"), nil
		}
	}
	return nil, refuseCatalog(q)
}

func txCommand(w string) *localCommand {
	switch w {
	case "END":
		w = "COMMIT"
	case "ABORT":
		w = "ROLLBACK"
	}
	return &localCommand{verb: w}
}

// catalogPattern finds PostgreSQL's catalog in a statement (without its
// literals and comments): what psql's \d and drivers' metadata read.
var catalogPattern = regexp.MustCompile(`(?i)\b(pg_catalog|information_schema)\s*\.|\b(pg_class|pg_namespace|pg_type|pg_attribute|pg_index|pg_database|pg_roles|pg_settings|pg_proc|pg_table_is_visible|format_type|pg_get_\w+|current_setting)\b|\bversion\s*\(\s*\)`)

func refuseCatalog(q string) *Error {
	if catalogPattern.MatchString(stripLiterals(q)) {
		return &Error{Code: "0A000", Message: "picogo does not have PostgreSQL's catalog (psql's \\d commands do not work); list tables with SELECT * FROM _pico_table"}
	}
	return nil
}

// stripLiterals is q with its string literals, quoted names and comments
// blanked out.
func stripLiterals(q string) string {
	b := []byte(q)
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '\'' || b[i] == '"':
			quote := b[i]
			for i++; i < len(b) && b[i] != quote; i++ {
				b[i] = ' '
			}
		case b[i] == '-' && i+1 < len(b) && b[i+1] == '-':
			for ; i < len(b) && b[i] != '\n'; i++ {
				b[i] = ' '
			}
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '*':
			for ; i < len(b) && !(b[i] == '*' && i+1 < len(b) && b[i+1] == '/'); i++ {
				b[i] = ' '
			}
			if i+1 < len(b) {
				b[i], b[i+1] = ' ', ' '
				i++
			}
		}
	}
	return string(b)
}

// token is a word of a session statement: keywords and names as written
// (quoted names and literals unquoted, quoted marked).
type token struct {
	text   string
	quoted bool // a 'literal' or "name"
}

// tokens cuts a session statement into words, literals, numbers and
// punctuation (',', '='), without comments and its ';'.
func tokens(q string) ([]token, *Error) {
	var ts []token
	s := q
	for {
		s = strings.TrimLeft(s, " \t\r\n\f\v")
		if s == "" {
			return ts, nil
		}
		switch {
		case strings.HasPrefix(s, "--"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return ts, nil
			}
			s = s[i:]
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s[2:], "*/")
			if i < 0 {
				return nil, syntaxError("unterminated /* comment")
			}
			s = s[i+4:]
		case s[0] == '\'' || s[0] == '"':
			quote := s[0]
			var b strings.Builder
			i := 1
			for {
				if i >= len(s) {
					return nil, syntaxError("unterminated quoted string")
				}
				if s[i] == quote {
					if i+1 < len(s) && s[i+1] == quote {
						b.WriteByte(quote)
						i += 2
						continue
					}
					break
				}
				b.WriteByte(s[i])
				i++
			}
			ts = append(ts, token{text: b.String(), quoted: true})
			s = s[i+1:]
		case s[0] == ',' || s[0] == '=' || s[0] == ';':
			if s[0] != ';' {
				ts = append(ts, token{text: s[:1]})
			}
			s = s[1:]
		default:
			i := 0
			for i < len(s) && !strings.ContainsRune(" \t\r\n\f\v,=;'\"", rune(s[i])) {
				i++
			}
			ts = append(ts, token{text: s[:i]})
			s = s[i:]
		}
	}
}

func syntaxError(msg string) *Error { return &Error{Code: "42601", Message: msg} }

func isWord(t token, w string) bool { return !t.quoted && strings.EqualFold(t.text, w) }

// name is a token as a parameter name: unquoted names fold to lower case.
func (t token) name() string {
	if t.quoted {
		return t.text
	}
	return strings.ToLower(t.text)
}

func parseSessionStatement(q string) (*localCommand, *Error) {
	ts, e := tokens(q)
	if e != nil {
		return nil, e
	}
	verb := strings.ToUpper(ts[0].text)
	ts = ts[1:]
	switch verb {
	case "SHOW":
		if len(ts) == 1 {
			return &localCommand{verb: verb, name: ts[0].name()}, nil
		}
		if len(ts) == 2 && isWord(ts[0], "TIME") && isWord(ts[1], "ZONE") {
			return &localCommand{verb: verb, name: "timezone"}, nil
		}
		if len(ts) == 3 && isWord(ts[0], "TRANSACTION") && isWord(ts[1], "ISOLATION") && isWord(ts[2], "LEVEL") {
			return &localCommand{verb: verb, name: "transaction_isolation"}, nil
		}
		return nil, syntaxError("syntax error in SHOW: SHOW name or SHOW ALL")
	case "RESET":
		if len(ts) == 1 {
			return &localCommand{verb: verb, name: ts[0].name()}, nil
		}
		if len(ts) == 2 && isWord(ts[0], "TIME") && isWord(ts[1], "ZONE") {
			return &localCommand{verb: verb, name: "timezone"}, nil
		}
		return nil, syntaxError("syntax error in RESET: RESET name or RESET ALL")
	case "DISCARD":
		if len(ts) == 1 {
			return &localCommand{verb: verb, name: strings.ToUpper(ts[0].text)}, nil
		}
		return nil, syntaxError("syntax error in DISCARD")
	case "DEALLOCATE":
		if len(ts) > 0 && isWord(ts[0], "PREPARE") {
			ts = ts[1:]
		}
		if len(ts) != 1 {
			return nil, syntaxError("syntax error in DEALLOCATE: DEALLOCATE [PREPARE] name or ALL")
		}
		name := ts[0].name()
		if isWord(ts[0], "ALL") {
			name = "ALL"
		}
		return &localCommand{verb: verb, name: name}, nil
	}
	// SET [SESSION | LOCAL] name {= | TO} value[, ...] | SET TIME ZONE value
	if len(ts) > 0 && (isWord(ts[0], "SESSION") || isWord(ts[0], "LOCAL")) {
		if len(ts) > 1 && isWord(ts[0], "SESSION") && (isWord(ts[1], "AUTHORIZATION") || isWord(ts[1], "CHARACTERISTICS")) {
			if isWord(ts[1], "CHARACTERISTICS") {
				return &localCommand{verb: "SET", noop: true}, nil
			}
			return nil, &Error{Code: "0A000", Message: "picogo does not support SET SESSION AUTHORIZATION"}
		}
		ts = ts[1:]
	}
	if len(ts) == 0 {
		return nil, syntaxError("syntax error in SET")
	}
	var name string
	switch {
	case isWord(ts[0], "TRANSACTION"):
		return &localCommand{verb: "SET", noop: true}, nil
	case isWord(ts[0], "ROLE"):
		return nil, &Error{Code: "0A000", Message: "picogo does not support SET ROLE"}
	case len(ts) > 1 && isWord(ts[0], "TIME") && isWord(ts[1], "ZONE"):
		name, ts = "timezone", ts[2:]
	case isWord(ts[0], "NAMES"):
		name, ts = "client_encoding", ts[1:]
	case isWord(ts[0], "SCHEMA"):
		name, ts = "search_path", ts[1:]
	default:
		name = ts[0].name()
		ts = ts[1:]
		if len(ts) == 0 || !(isWord(ts[0], "TO") || isWord(ts[0], "=")) {
			return nil, syntaxError(fmt.Sprintf("syntax error in SET %s: expected = or TO", name))
		}
		ts = ts[1:]
	}
	if len(ts) == 0 {
		return nil, syntaxError("syntax error in SET: a value is missing")
	}
	if len(ts) == 1 && (isWord(ts[0], "DEFAULT") || name == "timezone" && isWord(ts[0], "LOCAL")) {
		return &localCommand{verb: "SET", name: name, reset: true}, nil
	}
	var parts []string
	for i, t := range ts {
		if i%2 == 1 {
			if t.text != "," || t.quoted {
				return nil, syntaxError(fmt.Sprintf("syntax error in SET %s at %q", name, t.text))
			}
			continue
		}
		if !t.quoted && t.text == "," {
			return nil, syntaxError(fmt.Sprintf("syntax error in SET %s", name))
		}
		v := t.text
		if !t.quoted {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				v = strings.ToLower(v)
			}
		}
		parts = append(parts, v)
	}
	if len(ts)%2 == 0 {
		return nil, syntaxError(fmt.Sprintf("syntax error in SET %s: a value is missing", name))
	}
	return &localCommand{verb: "SET", name: name, value: strings.Join(parts, ", ")}, nil
}

var showAllColumns = []Column{{"name", "string"}, {"setting", "string"}, {"description", "string"}}

// describeLocal is what a session statement takes and returns.
func (c *conn) describeLocal(l *localCommand) *Description {
	if l.verb != "SHOW" {
		return &Description{}
	}
	if l.name == "all" {
		return &Description{Query: true, Columns: showAllColumns}
	}
	name := l.name
	if p, ok := knownParams[name]; ok {
		name = p.name
	}
	return &Description{Query: true, Columns: []Column{{Name: name, Type: "string"}}}
}

// runLocal runs a session statement.
func (c *conn) runLocal(l *localCommand) (*Result, string, *Error) {
	switch l.verb {
	case "SET":
		if l.noop {
			return &Result{}, "SET", nil
		}
		var changed string
		if l.reset {
			changed = c.settings.reset(l.name)
		} else {
			var e *Error
			if changed, e = c.settings.set(l.name, l.value); e != nil {
				return nil, "", e
			}
		}
		c.reportChange(changed)
		return &Result{}, "SET", nil
	case "RESET":
		if l.name == "all" {
			for key := range c.settings.values {
				c.reportChange(c.settings.reset(key))
			}
		} else {
			if p := knownParams[l.name]; p.readOnly {
				return nil, "", &Error{Code: "55P02", Message: fmt.Sprintf("parameter %q cannot be changed", p.name)}
			}
			c.reportChange(c.settings.reset(l.name))
		}
		return &Result{}, "RESET", nil
	case "SHOW":
		if l.name == "all" {
			var names []string
			for key := range c.settings.defaults {
				names = append(names, key)
			}
			for key := range c.settings.values {
				if _, ok := c.settings.defaults[key]; !ok {
					names = append(names, key)
				}
			}
			slices.Sort(names)
			res := &Result{Query: true, Columns: showAllColumns}
			for _, key := range names {
				name := key
				if p, ok := knownParams[key]; ok {
					name = p.name
				}
				res.Rows = append(res.Rows, []any{name, c.settings.get(key), ""})
			}
			return res, "SHOW", nil
		}
		v, ok := c.settings.lookup(l.name)
		if !ok {
			return nil, "", &Error{Code: "42704", Message: fmt.Sprintf("unrecognized configuration parameter %q", l.name)}
		}
		d := c.describeLocal(l)
		return &Result{Query: true, Columns: d.Columns, Rows: [][]any{{v}}}, "SHOW", nil
	case "BEGIN", "COMMIT", "ROLLBACK":
		c.be.Send(&pgproto3.NoticeResponse{Severity: "WARNING", SeverityUnlocalized: "WARNING", Code: "25000",
			Message: "picogo has no transactions: each statement commits on its own",
			Detail:  fmt.Sprintf("%s does nothing.", l.verb)})
		return &Result{}, l.verb, nil
	case "DISCARD":
		if l.name == "ALL" {
			clear(c.stmts)
			clear(c.portals)
			for key := range c.settings.values {
				c.reportChange(c.settings.reset(key))
			}
		}
		return &Result{}, "DISCARD " + l.name, nil
	case "DEALLOCATE":
		if l.name == "ALL" {
			for name := range c.stmts {
				if name != "" {
					delete(c.stmts, name)
				}
			}
		} else {
			if _, ok := c.stmts[l.name]; !ok || l.name == "" {
				return nil, "", &Error{Code: "26000", Message: fmt.Sprintf("prepared statement %q does not exist", l.name)}
			}
			delete(c.stmts, l.name)
		}
		return &Result{}, "DEALLOCATE" + map[bool]string{true: " ALL"}[l.name == "ALL"], nil
	}
	return &Result{}, l.verb, nil
}

func (c *conn) reportChange(name string) {
	if name != "" {
		c.be.Send(&pgproto3.ParameterStatus{Name: name, Value: c.settings.get(name)})
	}
}

// commandTag is CommandComplete's tag for a statement the Backend ran,
// as PostgreSQL makes it: SELECT and the rows for a query, INSERT 0 n,
// UPDATE n, DELETE n, the command and its object for DDL (CREATE TABLE,
// DROP INDEX), and the first word upper-cased otherwise.
func commandTag(q string, res *Result) string {
	name := parse.CommandName(q)
	if res.Query {
		if name == "EXPLAIN" {
			return "EXPLAIN"
		}
		return "SELECT " + strconv.Itoa(len(res.Rows))
	}
	n := strconv.FormatUint(res.RowCount, 10)
	switch name {
	case "":
		return "OK"
	case "INSERT":
		return "INSERT 0 " + n
	case "UPDATE", "DELETE":
		return name + " " + n
	}
	return name
}
