package main

import "strings"

// The console's statement splitter: where a statement typed over one or
// more lines ends. A ';' ends a statement unless it is inside a string
// literal ('it''s; ok'), a quoted name ("a;b"), a line comment (-- ...) or
// a block comment (/* ... */), as Picodata's lexer reads them: a doubled
// quote stands for one, there are no backslash escapes, block comments do
// not nest.

// scanState is where the text being scanned ends: in plain code or inside
// a literal or a block comment (the continuation prompt shows it). A line
// comment ends with its line, so text never ends "inside" one that matters.
type scanState byte

const (
	inCode         scanState = iota
	inString                 // '...'
	inQuotedName             // "..."
	inBlockComment           // /* ... */
)

// statement is one complete statement of a text and the line (1-based) of
// the text where it starts.
type statement struct {
	Text string
	Line int
}

// splitSQL cuts text into the statements it completes with ';' (from
// their first token to the ';' excluded, without trailing white space: the
// comments before a statement are not part of it, and statements of
// nothing but white space and comments are dropped) and the rest after the last one,
// with the state the text ends in. The rest is "" when it holds nothing but
// white space and finished comments: there is no statement pending.
func splitSQL(text string) (stmts []statement, rest string, state scanState) {
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
		case state == inString:
			if c == '\'' {
				state = inCode // a doubled quote leaves and re-enters: the same
			}
		case state == inQuotedName:
			if c == '"' {
				state = inCode
			}
		case state == inBlockComment:
			if c == '*' && next == '/' {
				state = inCode
				i++
			}
		case c == '-' && next == '-':
			lineComment = true
			i++
		case c == '/' && next == '*':
			state = inBlockComment
			i++
		case c == ';':
			if code {
				line := 1 + strings.Count(text[:codeStart], "\n")
				stmts = append(stmts, statement{Text: strings.TrimSpace(text[codeStart:i]), Line: line})
			}
			start, code = i+1, false
		case c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v':
			if !code {
				codeStart, code = i, true
			}
			switch c {
			case '\'':
				state = inString
			case '"':
				state = inQuotedName
			}
		}
	}
	if code || state != inCode {
		rest = text[start:]
	}
	return stmts, rest, state
}

// firstWords are the first n keywords of a statement, upper case, after
// white space, comments and opening parentheses; fewer if a non-word comes
// first.
func firstWords(stmt string, n int) []string {
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

// commandTag is what the console prints for a statement that answered
// with a row count, in psql's manner: DML its command and the rows it
// changed (INSERT 3, UPDATE 2, DELETE 1: psql's INSERT 0 3 without the
// OID), DDL and access control their command (CREATE TABLE, DROP INDEX,
// GRANT), anything else OK and the count.
func commandTag(stmt string, rowCount uint64) string {
	words := firstWords(stmt, 6)
	if len(words) == 0 {
		return "OK " + uintString(rowCount)
	}
	switch w := words[0]; w {
	case "INSERT", "UPDATE", "DELETE":
		return w + " " + uintString(rowCount)
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
	case "GRANT", "REVOKE", "SET", "CALL", "BEGIN", "COMMIT", "ROLLBACK":
		return w
	}
	return "OK " + uintString(rowCount)
}
