package value

import (
	"unicode"
	"unicode/utf8"

	"github.com/picogo/picogo/core/tuple"
)

// DefaultEscape is LIKE's escape character when the query gives no ESCAPE
// clause: the backslash, as in Picodata and PostgreSQL.
const DefaultEscape = `\`

// Like is s LIKE pattern ESCAPE escape (ILIKE when ilike): % matches any
// run of characters (also none), _ exactly one character, and the escape
// character makes the next one literal (an escaped escape is the escape
// itself). Characters, not bytes: _ matches one UTF-8 character. LIKE is
// case-sensitive; ILIKE folds case (Unicode simple folding: 'Straße'
// ILIKE 'STRASSE' is false, 'ǅ' ILIKE 'ǆ' is true).
//
// The caller passes DefaultEscape when the query has no ESCAPE clause.
// NULL in any position gives NULL. The escape must be exactly one
// character, and the pattern must not end with a lone escape character
// (CodeSQLInvalidArgument); non-strings are a type mismatch.
func Like(s, pattern, escape any, ilike bool) (any, *tuple.Error) {
	if _, ok := s.(string); !ok && s != nil {
		return nil, typeMismatch("type mismatch: LIKE takes strings, not %s", Describe(s))
	}
	m, err := CompileLike(pattern, escape, ilike)
	if err != nil || m == nil {
		return nil, err
	}
	return m.Match(s)
}

// LikeMatcher is a compiled LIKE pattern, for a pattern that is the same
// for every row (a literal): CompileLike once, Match per row.
type LikeMatcher struct{ p *likePattern }

// CompileLike compiles pattern with its escape character (DefaultEscape
// without an ESCAPE clause) for ILIKE when ilike, failing as Like does on a
// bad escape. A nil matcher and nil error mean the result is NULL for
// every row (a NULL pattern or escape).
func CompileLike(pattern, escape any, ilike bool) (*LikeMatcher, *tuple.Error) {
	for _, v := range []any{pattern, escape} {
		if _, ok := v.(string); !ok && v != nil {
			return nil, typeMismatch("type mismatch: LIKE takes strings, not %s", Describe(v))
		}
	}
	if pattern == nil || escape == nil {
		return nil, nil
	}
	esc := escape.(string)
	if utf8.RuneCountInString(esc) != 1 {
		return nil, tuple.Errorf(tuple.CodeSQLInvalidArgument, "ESCAPE must be a single character, not '%s'", esc)
	}
	r, _ := utf8.DecodeRuneInString(esc)
	p, err := compileLike(pattern.(string), r, ilike)
	if err != nil {
		return nil, err
	}
	return &LikeMatcher{p: p}, nil
}

// Match is s LIKE the pattern: NULL for NULL, a type mismatch for a
// non-string.
func (m *LikeMatcher) Match(s any) (any, *tuple.Error) {
	switch x := s.(type) {
	case nil:
		return nil, nil
	case string:
		return m.p.match(x), nil
	}
	return nil, typeMismatch("type mismatch: LIKE takes strings, not %s", Describe(s))
}

// likeItem is one element of a compiled pattern: a literal character, _
// (any one) or % (any run).
type likeItem struct {
	kind byte // 'c' literal, '_' one, '%' run
	r    rune
}

type likePattern struct {
	items []likeItem
	fold  bool
}

func compileLike(p string, esc rune, fold bool) (*likePattern, *tuple.Error) {
	lp := &likePattern{fold: fold}
	escaped := false
	for _, r := range p {
		switch {
		case escaped:
			lp.items = append(lp.items, likeItem{kind: 'c', r: foldRune(r, fold)})
			escaped = false
		case r == esc:
			escaped = true
		case r == '%':
			// Consecutive % are one.
			if n := len(lp.items); n == 0 || lp.items[n-1].kind != '%' {
				lp.items = append(lp.items, likeItem{kind: '%'})
			}
		case r == '_':
			lp.items = append(lp.items, likeItem{kind: '_'})
		default:
			lp.items = append(lp.items, likeItem{kind: 'c', r: foldRune(r, fold)})
		}
	}
	if escaped {
		return nil, tuple.Errorf(tuple.CodeSQLInvalidArgument, "LIKE pattern must not end with the escape character")
	}
	return lp, nil
}

// foldRune maps a rune to the smallest rune of its simple case-folding
// orbit, so that two runes fold equal exactly when they are the same
// letter in any case.
func foldRune(r rune, fold bool) rune {
	if !fold {
		return r
	}
	lo := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < lo {
			lo = f
		}
	}
	return lo
}

// match runs the pattern over s: the classic wildcard matcher, which
// backtracks only to the last %, so it takes O(len(s)·len(pattern)) at
// worst.
func (p *likePattern) match(s string) bool {
	text := make([]rune, 0, len(s))
	for _, r := range s {
		text = append(text, foldRune(r, p.fold))
	}
	ti, pi := 0, 0
	star, starT := -1, 0
	for ti < len(text) {
		if pi < len(p.items) {
			it := p.items[pi]
			switch {
			case it.kind == '%':
				star, starT = pi, ti
				pi++
				continue
			case it.kind == '_' || it.r == text[ti]:
				ti++
				pi++
				continue
			}
		}
		if star < 0 {
			return false
		}
		starT++
		ti = starT
		pi = star + 1
	}
	for pi < len(p.items) && p.items[pi].kind == '%' {
		pi++
	}
	return pi == len(p.items)
}
