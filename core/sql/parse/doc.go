// Package parse turns the text of Picodata's SQL dialect into syntax trees
// and prints them back.
//
// It owns the first layer of picogo's SQL: a hand-written lexer, a
// recursive-descent parser, the AST (every node knows where in the text it
// began) and a canonical printer. The printer is what the tests stand on:
// for every tree the parser builds, parsing its String() gives the same tree
// again, positions aside. The printer parenthesizes every compound
// expression, so the tree's shape (precedence, associativity) can be read off
// the printed text.
//
// It does not own meaning. Whether a table or column exists, what type an
// expression has, whether a privilege may be granted on an object — binding
// names to the schema, type checking, planning and execution — are later
// layers, which take these trees as input. The parser only checks what the
// grammar alone can decide, such as integer literals that fit no 64-bit
// integer.
//
// Identifiers follow PostgreSQL, as current Picodata does (its older
// releases folded to upper case instead): unquoted names fold to lower
// case, "quoted" names keep their case and may hold any character, with ""
// standing for one quote. Keywords are case-insensitive, in ASCII only. A
// few keywords are reserved (see reserved in parser.go) and can be names
// only when quoted; the printer quotes them.
//
// The grammar is a little wider than Picodata's where the rest can be left
// to the binder: a SELECT may lack FROM, CREATE TABLE may lack a PRIMARY KEY
// or a distribution, and OPTION (...) takes any option name. It is not
// wider where Picodata's model differs from PostgreSQL's: privileges are
// READ, WRITE, CREATE, ALTER, DROP, SESSION, USAGE and EXECUTE, not
// SELECT, INSERT, UPDATE and DELETE.
//
// The package is pure and a leaf: it imports no other picogo package, and
// it never panics on any input — a malformed or hostile text yields an
// *Error naming the line and column, what was expected and what was found.
package parse
