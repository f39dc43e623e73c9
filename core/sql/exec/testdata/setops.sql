SELECT k FROM t UNION SELECT k FROM g ORDER BY 1
----
k integer
NULL
10
20
30
40

SELECT k FROM t WHERE k = 10 UNION ALL SELECT k FROM g WHERE k = 10
----
k integer
10
10
10

SELECT k FROM t EXCEPT SELECT k FROM g ORDER BY k
----
k integer
NULL
30

SELECT k FROM g EXCEPT SELECT k FROM t
----
k integer
40

SELECT id FROM t UNION SELECT k FROM g ORDER BY id LIMIT 3
----
id integer
1
2
3

SELECT id, v FROM t UNION SELECT k FROM g
----
error 171: each UNION query must have the same number of columns: 2 and 1 (line 1, column 21)
