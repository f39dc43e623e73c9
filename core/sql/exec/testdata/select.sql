-- SELECT * leaves the hidden bucket_id out; naming it reads it.
SELECT * FROM t
----
id integer, k integer, v string, d double, m decimal, b boolean
1 | 10 | 'apple' | 1.5 | 1.10 | true
2 | 20 | 'banana' | 2.5 | 2.20 | false
3 | 10 | 'cherry' | NULL | 3.30 | NULL
4 | NULL | 'Apple' | 4 | NULL | true
5 | 30 | NULL | -1.25 | -5 | false
6 | 20 | 'date' | 0 | 0 | true

SELECT id, bucket_id FROM t WHERE id < 3
----
id integer, bucket_id unsigned
1 | 3
2 | 1

SELECT t.id AS ident, v FROM t WHERE k = 10 ORDER BY ident DESC
----
ident integer, v string
3 | 'cherry'
1 | 'apple'

-- A point read by primary key (the index path) and the same filter the
-- scan way give the same row.
SELECT v FROM t WHERE id = 3
----
v string
'cherry'

SELECT v FROM t WHERE id + 0 = 3
----
v string
'cherry'

SELECT v FROM t WHERE id = 3.0
----
v string
'cherry'

SELECT v FROM t WHERE id = 99
----
v string

SELECT v FROM t WHERE id = $1 - 7
----
v string
'cherry'

SELECT DISTINCT k FROM t ORDER BY k
----
k integer
NULL
10
20
30

SELECT DISTINCT k FROM t ORDER BY k DESC
----
k integer
30
20
10
NULL

SELECT id FROM t ORDER BY d, id
----
id integer
3
5
6
1
2
4

SELECT id, v FROM t ORDER BY 2 LIMIT 2 OFFSET 1
----
id integer, v string
4 | 'Apple'
1 | 'apple'

SELECT id FROM t LIMIT 0
----
id integer

SELECT id FROM t LIMIT $1 OFFSET 4
----
id integer
5
6

-- VALUES, alone and in FROM.
VALUES (1, 'one'), (2, NULL)
----
column1 integer, column2 string
1 | 'one'
2 | NULL

SELECT x.column2 FROM (VALUES (1, 'one'), (2, 'two')) AS x WHERE x.column1 = 2
----
column2 string
'two'

SELECT 1 AS one, 'a' || 'b' AS ab
----
one integer, ab string
1 | 'ab'

-- WITH, referenced twice.
WITH big AS (SELECT id, k FROM t WHERE k >= 20) SELECT a.id, b.id FROM big a JOIN big b ON a.k = b.k AND a.id < b.id
----
id integer, id integer
2 | 6

WITH c (n) AS (SELECT COUNT(*) FROM t) SELECT n * 2 FROM c
----
col_1 integer
12

SELECT * FROM e
----
x integer

SELECT COUNT(*), SUM(x), MAX(x) FROM e
----
count integer, sum integer, max integer
0 | NULL | NULL

-- A string literal compared with a typed column is read as its type.
SELECT id FROM t WHERE k = '10' AND d > '1.00' AND id IN ('1', '3') AND id BETWEEN '1' AND '3'
----
id integer
1
