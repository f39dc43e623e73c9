#!/usr/bin/env python3
"""Extract SQL test cases from SQLite's TCL test suite (public domain) into
core/sql/oracles/testdata/sqlite/*.slt, the corpus TestSQLiteCorpus runs.

SQLite's test files ship with the modernc.org/sqlite module (testdata/tcl),
a test-only dependency of picogo: run this after `go mod download`, e.g.

    scripts/sqlite-corpus.py $(go env GOMODCACHE)/modernc.org/sqlite@v1.62.0/testdata/tcl

Only two forms are taken, whose answer is a literal list:

    do_execsql_test NAME { SQL } { EXPECTED }
    do_test NAME { execsql { SQL } } { EXPECTED }

Everything else (catchsql, Tcl variables and loops, procs) is left out. The
SQL is kept verbatim; the expected answer is Tcl's list, on one line.
See docs/sql-tests.md.
"""
import os
import re
import sys

FILES = ["null.test", "select4.test", "in.test", "distinct.test", "count.test",
         "minmax.test", "select1.test", "between.test", "aggnested.test",
         "select6.test", "join.test", "e_select.test", "where.test", "select3.test",
         "select2.test", "select5.test", "in3.test", "collate1.test", "coalesce.test",
         "exists.test", "limit.test", "orderby1.test", "subquery.test"]


def braced(s, i):
    """The text inside the braces that open at s[i], and the index after."""
    assert s[i] == "{"
    depth, j = 0, i
    while j < len(s):
        c = s[j]
        if c == "\\":
            j += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return s[i + 1:j], j + 1
        j += 1
    raise ValueError("unbalanced")


def skip_ws(s, i):
    while i < len(s) and s[i] in " \t\\\n":
        i += 1
    return i


STATE = re.compile(r"\b(insert\s+(or\s+\w+\s+)?into|replace\s+into|update\s+\w+\s+set|delete\s+from|create\s+(temp\w*\s+)?(table|view)|drop\s+(table|view)|alter\s+table|reset_db|forcedelete|rollback|db\s+close)\b", re.I)


FIRST = STATE


def word(s, i):
    """A bare Tcl word at s[i] and the index after it."""
    j = i
    while j < len(s) and not s[j].isspace():
        j += 1
    return s[i:j], j


def extract(m, text):
    """The case at match m: (name, sql, expected, end) or None."""
    kind, name = m.group(1), m.group(2)
    i = m.end()
    if i >= len(text) or text[i] != "{":
        return None
    try:
        body, i = braced(text, i)
        after, j = i, i
        while j < len(text) and text[j] in " \t":
            j += 1
        if j < len(text) and text[j] == "\\" and text[j + 1:j + 2] == "\n":
            j = skip_ws(text, j)
        elif j >= len(text) or text[j] in "\n;#":
            j = -1  # no expected result: the command ends with the line
        i = j
        if i < 0:
            expected, end = "", after
        elif text[i] == "{":
            expected, end = braced(text, i)
        elif text[i] in "[$\"":
            return None
        else:
            expected, end = word(text, i)
    except (ValueError, AssertionError):
        return None
    if kind == "do_test":
        mm = re.fullmatch(r"execsql\s*(\{.*\})", body.strip(), re.S)
        if not mm:
            return None
        try:
            sql, rest = braced(mm.group(1), 0)
        except (ValueError, AssertionError):
            return None
        if rest != len(mm.group(1)):
            return None
    else:
        sql = body
    if "$" in sql or "[" in sql or "$" in expected or "[" in expected:
        return None  # Tcl substitution
    return name, sql.strip(), " ".join(expected.split()), end


def cases(text):
    """The extractable cases in order, with a barrier wherever the Tcl
    between them may change the database in a way not extracted (the
    runner stops the file there)."""
    last = 0
    for m in re.finditer(r"^\s*(do_execsql_test|do_test)\s+(\S+)\s+", text, re.M):
        if m.start() < last:
            continue
        between = "\n".join(l for l in text[last:m.start()].splitlines() if not l.strip().startswith("#"))
        # Before the first case: the preamble (source tester.tcl) is
        # harmless unless it writes.
        if STATE.search(between):
            yield "!barrier", "", ""
        last = m.start()
        c = extract(m, text)
        if c is None:
            continue
        name, sql, expected, end = c
        last = end
        yield name, sql, expected


def main():
    src = sys.argv[1]
    out = os.path.join(os.path.dirname(__file__), "..", "core", "sql", "oracles", "testdata", "sqlite")
    os.makedirs(out, exist_ok=True)
    total = 0
    for f in FILES:
        p = os.path.join(src, f)
        if not os.path.exists(p):
            continue
        with open(p, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        got = list(cases(text))
        if not got:
            continue
        with open(os.path.join(out, f.replace(".test", ".slt")), "w") as fh:
            fh.write(f"# From SQLite's test/{f} (public domain), as shipped in modernc.org/sqlite's testdata/tcl.\n")
            fh.write("# Extracted by scripts/sqlite-corpus.py; see docs/sql-tests.md.\n")
            for name, sql, expected in got:
                if name == "!barrier":
                    fh.write("\n== !barrier (Tcl here may change the database: the runner starts a new one)\n---- \n")
                    continue
                fh.write(f"\n== {name}\n{sql}\n---- {expected}\n")
        total += len(got)
        print(f"{f}: {len(got)} cases")
    print(f"{total} cases")


if __name__ == "__main__":
    main()
