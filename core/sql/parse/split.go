package parse

import "strings"

// The statement splitter: where a statement of a script, a console's
// input or a PostgreSQL simple-query message ends. A ';' ends a statement
// unless it is inside a string literal ('it''s; ok'), a quoted name
// ("a;b"), a line comment (-- ...) or a block comment (/* ... */), as the
// lexer reads them: a doubled quote stands for one, there are no
// backslash escapes, block comments do not nest. It needs no parse: text
// that does not lex still splits, for the parser to say what is wrong
// with each piece.

// ScanState is where the text being split ends: in plain code or inside a
// literal or a block comment (a console's continuation prompt shows it). A
// line comment ends with its line, so text never ends "inside" one that
// matters.
type ScanState byte

// The states a text can end in.
const (
	InCode         ScanState = iota
	InString                 // '...'
	InQuotedName             // "..."
	InBlockComment           // /* ... */
)

// Statement is one complete statement of a text and the line (1-based) of
// the text where it starts.
type Statement struct {
	Text string
	Line int
}

// Split cuts text into the statements it completes with ';' (from their
// first token to the ';' excluded, without trailing white space: the
// comments before a statement are not part of it, and statements of
// nothing but white space and comments are dropped) and the rest after the
// last one, with the state the text ends in. The rest is "" when it holds
// nothing but white space and finished comments: there is no statement
// pending. Each Statement's Text is a substring of text.
func Split(text string) (stmts []Statement, rest string, state ScanState) {
	start := 0     // where the current statement's text begins
	codeStart := 0 // where its first token (not white space or a comment) is
	code := false  // the current statement has something besides comments
	lineComment := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		next := byte(0)
		if i+1 < len(text) {
			next = text[i+1]
		}
		switch {
		case lineComment:
			if c == '\n' {
				lineComment = false
			}
		case state == InString:
			if c == '\'' {
				state = InCode // a doubled quote leaves and re-enters: the same
			}
		case state == InQuotedName:
			if c == '"' {
				state = InCode
			}
		case state == InBlockComment:
			if c == '*' && next == '/' {
				state = InCode
				i++
			}
		case c == '-' && next == '-':
			lineComment = true
			i++
		case c == '/' && next == '*':
			state = InBlockComment
			i++
		case c == ';':
			if code {
				line := 1 + strings.Count(text[:codeStart], "\n")
				stmts = append(stmts, Statement{Text: strings.TrimSpace(text[codeStart:i]), Line: line})
			}
			start, code = i+1, false
		case c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v':
			if !code {
				codeStart, code = i, true
			}
			switch c {
			case '\'':
				state = InString
			case '"':
				state = InQuotedName
			}
		}
	}
	if code || state != InCode {
		rest = text[start:]
	}
	return stmts, rest, state
}

// SplitAll cuts a whole text into its statements, the last one with or
// without its ';' (as psql and PostgreSQL's simple query take it). An
// unfinished string, quoted name or comment at the end goes as it is,
// trimmed, for the parser to say what is wrong with it.
func SplitAll(text string) []Statement {
	stmts, rest, state := Split(text)
	if rest == "" {
		return stmts
	}
	if state == InCode {
		// The rest ends in code or a line comment: a new line ends the
		// comment, and the ';' after it ends the statement.
		if last, _, _ := Split(rest + "\n;"); len(last) == 1 {
			last[0].Line += strings.Count(text[:len(text)-len(rest)], "\n")
			return append(stmts, last[0])
		}
	}
	i := len(text) - len(rest)
	trimmed := strings.TrimLeft(rest, " \t\r\n\f\v")
	i += len(rest) - len(trimmed)
	return append(stmts, Statement{Text: strings.TrimSpace(trimmed), Line: 1 + strings.Count(text[:i], "\n")})
}

// FirstWords are the first n keywords of a statement, upper case, after
// white space, comments and opening parentheses; fewer if a non-word comes
// first.
func FirstWords(stmt string, n int) []string {
	var words []string
	s := stmt
	for len(words) < n {
		s = strings.TrimLeft(s, " \t\r\n\f\v(")
		switch {
		case strings.HasPrefix(s, "--"):
			if j := strings.IndexByte(s, '\n'); j >= 0 {
				s = s[j:]
				continue
			}
			return words
		case strings.HasPrefix(s, "/*"):
			if j := strings.Index(s[2:], "*/"); j >= 0 {
				s = s[j+4:]
				continue
			}
			return words
		}
		j := 0
		for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] == '_') {
			j++
		}
		if j == 0 {
			return words
		}
		words = append(words, strings.ToUpper(s[:j]))
		s = s[j:]
	}
	return words
}

// CommandName is what a statement is called in PostgreSQL's command tags,
// without the counts: its first word upper-cased (INSERT, UPDATE, GRANT,
// SELECT...), with its object for CREATE, DROP and ALTER (CREATE TABLE,
// DROP INDEX: the words OR REPLACE, UNIQUE, IF [NOT] EXISTS, GLOBAL and
// TEMP[ORARY] skipped), TRUNCATE TABLE for TRUNCATE; "" for a statement
// with no first word.
func CommandName(stmt string) string {
	words := FirstWords(stmt, 6)
	if len(words) == 0 {
		return ""
	}
	switch w := words[0]; w {
	case "CREATE", "DROP", "ALTER":
		for _, obj := range words[1:] {
			switch obj {
			case "OR", "REPLACE", "UNIQUE", "IF", "NOT", "EXISTS", "GLOBAL", "TEMP", "TEMPORARY":
				continue
			}
			return w + " " + obj
		}
		return w
	case "TRUNCATE":
		return "TRUNCATE TABLE"
	default:
		return w
	}
}
