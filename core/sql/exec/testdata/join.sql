SELECT t.id, g.name FROM t JOIN g ON t.k = g.k ORDER BY t.id
----
id integer, name string
1 | 'ten'
2 | 'twenty'
3 | 'ten'
6 | 'twenty'

SELECT t.id, g.name FROM t LEFT JOIN g ON t.k = g.k ORDER BY t.id
----
id integer, name string
1 | 'ten'
2 | 'twenty'
3 | 'ten'
4 | NULL
5 | NULL
6 | 'twenty'

SELECT t.id, g.name FROM t LEFT OUTER JOIN g ON t.k = g.k AND g.name <> 'ten' ORDER BY t.id
----
id integer, name string
1 | NULL
2 | 'twenty'
3 | NULL
4 | NULL
5 | NULL
6 | 'twenty'

SELECT g.name, COUNT(t.id) FROM g LEFT JOIN t ON t.k = g.k GROUP BY g.name ORDER BY g.name
----
name string, count integer
'forty' | 0
'ten' | 2
'twenty' | 2

-- A non-equality join condition is checked pair by pair.
SELECT t.id, g.k FROM t JOIN g ON t.k > g.k ORDER BY t.id, g.k
----
id integer, k integer
2 | 10
5 | 10
5 | 20
6 | 10

SELECT a.id, b.id FROM t a JOIN t b ON a.k = b.k AND a.id < b.id ORDER BY a.id
----
id integer, id integer
1 | 3
2 | 6

SELECT * FROM g JOIN g h ON g.k = h.k WHERE g.k = 40
----
k integer, name string, k integer, name string
40 | 'forty' | 40 | 'forty'

SELECT k FROM t JOIN g ON t.k = g.k
----
error 10104: column reference "k" is ambiguous (line 1, column 8)

SELECT t.id, x.name FROM t JOIN (SELECT k, name FROM g WHERE k < 30) AS x ON x.k = t.k ORDER BY 1
----
id integer, name string
1 | 'ten'
2 | 'twenty'
3 | 'ten'
6 | 'twenty'
