-- Arithmetic: integers exact, division truncates, overflow is an error.
SELECT 7 / 2, -7 / 2, 7 % 3, -7 % 3, 2 * 3 + 4, (2 + 3) * 4
----
col_1 integer, col_2 integer, col_3 integer, col_4 integer, col_5 integer, col_6 integer
3 | -3 | 1 | -1 | 10 | 20

SELECT 9223372036854775807 + 1
----
col_1 integer
9223372036854775808

SELECT 18446744073709551615 + 1
----
error 10101: integer is overflowed

SELECT -9223372036854775808 - 1
----
error 10101: integer is overflowed

SELECT 1 / 0
----
error 10100: division by zero

SELECT 1.5 + 1, 1.5 * 2.0, 1e1 / 4, 7 / 2.0
----
col_1 decimal, col_2 decimal, col_3 double, col_4 decimal
2.5 | 3.00 | 2.5 | 3.5

-- Three-valued logic: NULL is unknown, and WHERE keeps only TRUE.
SELECT NULL = NULL, NULL AND FALSE, NULL OR TRUE, NOT NULL, NULL IS NULL, 1 IS NOT NULL
----
col_1 boolean, col_2 boolean, col_3 boolean, col_4 boolean, col_5 boolean, col_6 boolean
NULL | false | true | NULL | true | true

SELECT id FROM t WHERE NOT (b)
----
id integer
2
5

SELECT id FROM t WHERE b IS NULL OR d IS NULL
----
id integer
3

SELECT id FROM t WHERE k IN (10, NULL)
----
id integer
1
3

SELECT id FROM t WHERE k NOT IN (10, NULL)
----
id integer

SELECT id FROM t WHERE k BETWEEN 15 AND 25
----
id integer
2
6

SELECT id FROM t WHERE k NOT BETWEEN 15 AND 25
----
id integer
1
3
5

-- LIKE is case-sensitive, ILIKE not; ESCAPE makes % literal.
SELECT v FROM t WHERE v LIKE 'a%'
----
v string
'apple'

SELECT v FROM t WHERE v ILIKE 'a%' ORDER BY v
----
v string
'Apple'
'apple'

SELECT v FROM t WHERE v LIKE '_a%'
----
v string
'banana'
'date'

SELECT '10%' LIKE '10!%' ESCAPE '!', '100' LIKE '10!%' ESCAPE '!'
----
col_1 boolean, col_2 boolean
true | false

SELECT CASE WHEN k > 15 THEN 'big' WHEN k > 5 THEN 'small' ELSE 'none' END FROM t
----
col_1 string
'small'
'big'
'small'
'none'
'big'
'big'

SELECT CASE k WHEN 10 THEN 'ten' WHEN 20 THEN 'twenty' END FROM t
----
col_1 string
'ten'
'twenty'
'ten'
NULL
NULL
'twenty'

SELECT CAST('42' AS INTEGER), CAST(3.9 AS INT), CAST(42 AS TEXT), '7'::UNSIGNED, CAST('true' AS BOOLEAN)
----
col_1 integer, col_2 integer, col_3 string, col_4 unsigned, col_5 boolean
42 | 3 | '42' | 7 | true

SELECT CAST('x' AS INTEGER)
----
error 10103: cannot cast string('x') to integer

SELECT COALESCE(v, 'none'), NULLIF(k, 10) FROM t WHERE id IN (3, 5)
----
coalesce string, nullif integer
'cherry' | NULL
'none' | 30

SELECT ABS(-3), LENGTH('héllo'), LOWER('AbC'), UPPER('abc'), SUBSTRING('hello' FROM 2 FOR 3), SUBSTRING('hello', 2)
----
abs integer, length integer, lower string, upper string, col_5 string, substring string
3 | 5 | 'abc' | 'ABC' | 'ell' | 'ello'

SELECT TRIM('  x  '), TRIM(LEADING 'x' FROM 'xxay'), ROUND(2.567, 2), ROUND(-2.5)
----
col_1 string, col_2 string, round decimal, round decimal
'x' | 'ay' | 2.57 | -3

SELECT NOW(), CURRENT_DATE
----
now datetime, current_date datetime
2026-01-01T00:00:00Z | 2026-01-01T00:00:00Z

SELECT m + 1, m * 2, d + m FROM t WHERE id = 1
----
col_1 decimal, col_2 decimal, col_3 decimal
2.10 | 2.20 | 2.60

SELECT v || '!' FROM t WHERE id = 1
----
col_1 string
'apple!'

SELECT 1 || 'x'
----
error 171: type mismatch: cannot concatenate integer(1) and string('x')

SELECT $1 + 1, $2, ? , ?
----
col_1 integer, col_2 string, col_3 integer, col_4 string
11 | 'apple' | 10 | 'apple'

SELECT $3
----
error 10106: parameter $3 has no value: 2 given (line 1, column 8)
