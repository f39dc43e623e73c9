SELECT id FROM t WHERE k IN (SELECT k FROM g) ORDER BY id
----
id integer
1
2
3
6

SELECT id FROM t WHERE k NOT IN (SELECT k FROM g) ORDER BY id
----
id integer
5

SELECT id FROM t WHERE EXISTS (SELECT 1 FROM g WHERE g.k = t.k) ORDER BY id
----
id integer
1
2
3
6

SELECT id FROM t WHERE NOT EXISTS (SELECT 1 FROM g WHERE g.k = t.k) ORDER BY id
----
id integer
4
5

SELECT id, (SELECT name FROM g WHERE g.k = t.k) AS name FROM t ORDER BY id
----
id integer, name string
1 | 'ten'
2 | 'twenty'
3 | 'ten'
4 | NULL
5 | NULL
6 | 'twenty'

SELECT (SELECT MAX(k) FROM g), (SELECT COUNT(*) FROM e)
----
col_1 integer, col_2 integer
40 | 0

SELECT (SELECT k FROM g)
----
error 171: a scalar subquery returned 3 rows, not one (line 1, column 8)

SELECT id FROM t WHERE k = (SELECT MIN(k) FROM g) ORDER BY id
----
id integer
1
3

SELECT id FROM t WHERE (k, v) IN (SELECT k, 'apple' FROM g) ORDER BY id
----
id integer
1

SELECT s.n FROM (SELECT COUNT(*) AS n FROM t) s
----
n integer
6

SELECT k, (SELECT COUNT(*) FROM t AS u WHERE u.k = t.k) FROM t GROUP BY k ORDER BY k
----
k integer, col_2 integer
NULL | 0
10 | 2
20 | 2
30 | 1
