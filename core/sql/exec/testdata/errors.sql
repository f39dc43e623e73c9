SELECT nope FROM t
----
error 176: column "nope" does not exist (line 1, column 8)

SELECT k FROM t, g
----
error: syntax error at line 1, column 16: expected ";" or end of input, found ","

SELECT id FROM nowhere
----
error 36: table "nowhere" does not exist (line 1, column 16)

SELECT x.id FROM t
----
error 176: missing FROM-clause entry for table "x" (line 1, column 8)

SELECT id FROM t WHERE v = 1
----
error 171: type mismatch: cannot compare string('apple') with integer(1)

SELECT id FROM t WHERE v + 1 > 0
----
error 171: type mismatch: cannot apply + to string('apple') and integer(1)

SELECT FOO(1)
----
error 51: function foo does not exist (line 1, column 8)

SELECT ABS(1, 2)
----
error 202: wrong number of arguments is passed to ABS(): expected 1, got 2 (line 1, column 8)

-- A string literal compared with a typed value is read as that type
-- (PostgreSQL's untyped literals): 'x' is no integer.
SELECT id FROM t WHERE id = 'x'
----
error 10103: cannot cast string('x') to integer (line 1, column 29)

SELECT * FROM t ORDER BY 9
----
error 176: position 9 is not in the select list (1..6) (line 1, column 26)

SELECT id FROM t LIMIT -1
----
error 171: LIMIT must be a non-negative integer, not -1 (line 1, column 24)

WITH w AS (SELECT 1), w AS (SELECT 2) SELECT * FROM w
----
error 179: WITH query name "w" specified more than once (line 1, column 23)

SELECT id FROM t WHERE k IN (SELECT k, name FROM g)
----
error 171: IN compares 1 values with a subquery of 2 columns (line 1, column 26)
