package parse

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is a syntax error: where, and what was expected and found there.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string {
	return fmt.Sprintf("syntax error at line %d, column %d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
}

type tokKind int

const (
	tEOF    tokKind = iota
	tIdent          // unquoted word: a keyword or a name
	tQIdent         // "quoted" name
	tNumber
	tString
	tParam // $n
	tQMark // ?
	tPunct // operators and punctuation
)

type token struct {
	kind tokKind
	text string // the word as written, the unquoted content, or the operator
	pos  Pos
	end  int // offset just past the token
}

// lexer cuts the source into tokens, all at once, so the parser can look
// ahead freely.
type lexer struct {
	src  string
	off  int
	line int
	col  int
}

func (l *lexer) pos() Pos { return Pos{Offset: l.off, Line: l.line, Col: l.col} }

// advance moves over n bytes, keeping line and column.
func (l *lexer) advance(n int) {
	for i := 0; i < n && l.off < len(l.src); i++ {
		if l.src[l.off] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.off++
	}
}

func (l *lexer) peekByte(k int) byte {
	if l.off+k < len(l.src) {
		return l.src[l.off+k]
	}
	return 0
}

func lex(src string) ([]token, *Error) {
	l := &lexer{src: src, line: 1, col: 1}
	var toks []token
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tEOF {
			return toks, nil
		}
	}
}

// twoOps are the operators two bytes long.
var twoOps = []string{"<=", ">=", "<>", "!=", "||", "::"}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func isIdentPart(r rune) bool  { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
func isDigit(c byte) bool      { return '0' <= c && c <= '9' }

func (l *lexer) next() (token, *Error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	start := l.pos()
	tok := func(k tokKind, text string) (token, *Error) {
		return token{kind: k, text: text, pos: start, end: l.off}, nil
	}
	if l.off >= len(l.src) {
		return tok(tEOF, "")
	}
	c := l.src[l.off]
	switch {
	case c == '\'':
		s, err := l.quoted('\'', "string literal")
		if err != nil {
			return token{}, err
		}
		return tok(tString, s)
	case c == '"':
		s, err := l.quoted('"', "quoted identifier")
		if err != nil {
			return token{}, err
		}
		if s == "" {
			return token{}, &Error{start, "zero-length quoted identifier"}
		}
		return tok(tQIdent, s)
	case isDigit(c) || c == '.' && isDigit(l.peekByte(1)):
		return l.number(start)
	case c == '$':
		l.advance(1)
		from := l.off
		for l.off < len(l.src) && isDigit(l.src[l.off]) {
			l.advance(1)
		}
		digits := l.src[from:l.off]
		if digits == "" {
			return token{}, &Error{start, "expected a parameter number after $"}
		}
		n, err := strconv.ParseInt(digits, 10, 32)
		if err != nil || n == 0 {
			return token{}, &Error{start, fmt.Sprintf("parameter $%s out of range", digits)}
		}
		return tok(tParam, digits)
	case c == '?':
		l.advance(1)
		return tok(tQMark, "?")
	}
	r, size := utf8.DecodeRuneInString(l.src[l.off:])
	if isIdentStart(r) {
		l.advance(size)
		for l.off < len(l.src) {
			r, size := utf8.DecodeRuneInString(l.src[l.off:])
			if !isIdentPart(r) {
				break
			}
			l.advance(size)
		}
		return tok(tIdent, l.src[start.Offset:l.off])
	}
	for _, op := range twoOps {
		if strings.HasPrefix(l.src[l.off:], op) {
			l.advance(2)
			return tok(tPunct, op)
		}
	}
	if strings.IndexByte("(),;.*+-/%=<>", c) >= 0 {
		l.advance(1)
		return tok(tPunct, string(c))
	}
	if r == utf8.RuneError && size <= 1 {
		return token{}, &Error{start, fmt.Sprintf("invalid UTF-8 byte 0x%02x", c)}
	}
	return token{}, &Error{start, fmt.Sprintf("unexpected character %q", r)}
}

// skipSpace skips white space and comments.
func (l *lexer) skipSpace() *Error {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.advance(1)
		case c == '-' && l.peekByte(1) == '-':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance(1)
			}
		case c == '/' && l.peekByte(1) == '*':
			start := l.pos()
			end := strings.Index(l.src[l.off+2:], "*/")
			if end < 0 {
				return &Error{start, "unterminated comment"}
			}
			l.advance(end + 4)
		default:
			return nil
		}
	}
	return nil
}

// quoted reads a string or quoted identifier; a doubled quote stands for
// one.
func (l *lexer) quoted(q byte, what string) (string, *Error) {
	start := l.pos()
	l.advance(1)
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			return "", &Error{start, "unterminated " + what}
		}
		c := l.src[l.off]
		l.advance(1)
		if c == q {
			if l.peekByte(0) == q && l.off < len(l.src) {
				b.WriteByte(q)
				l.advance(1)
				continue
			}
			return b.String(), nil
		}
		b.WriteByte(c)
	}
}

// number reads digits [. digits] [e [+-] digits], or . digits [exponent].
// A point or an e not followed by a digit is not part of the number.
func (l *lexer) number(start Pos) (token, *Error) {
	for l.off < len(l.src) && isDigit(l.src[l.off]) {
		l.advance(1)
	}
	kind := Integer
	if l.peekByte(0) == '.' && isDigit(l.peekByte(1)) {
		kind = Decimal
		l.advance(1)
		for l.off < len(l.src) && isDigit(l.src[l.off]) {
			l.advance(1)
		}
	}
	if e := l.peekByte(0); e == 'e' || e == 'E' {
		k := 1
		if s := l.peekByte(1); s == '+' || s == '-' {
			k = 2
		}
		if isDigit(l.peekByte(k)) {
			kind = Float
			l.advance(k)
			for l.off < len(l.src) && isDigit(l.src[l.off]) {
				l.advance(1)
			}
		}
	}
	raw := l.src[start.Offset:l.off]
	if kind == Integer {
		if _, err := strconv.ParseUint(raw, 10, 64); err != nil {
			return token{}, &Error{start, fmt.Sprintf("integer literal %s out of range", raw)}
		}
	}
	return token{kind: tNumber, text: raw, pos: start, end: l.off}, nil
}
