SELECT k, COUNT(*), COUNT(v), SUM(d), MIN(v), MAX(v) FROM t GROUP BY k ORDER BY k
----
k integer, count integer, count integer, sum double, min string, max string
NULL | 1 | 1 | 4 | 'Apple' | 'Apple'
10 | 2 | 2 | 1.5 | 'apple' | 'cherry'
20 | 2 | 2 | 2.5 | 'banana' | 'date'
30 | 1 | 0 | -1.25 | NULL | NULL

-- AVG of integers is a decimal; of doubles a double; TOTAL is a double,
-- 0 over no rows; SUM is NULL over no rows.
SELECT AVG(k), AVG(d), TOTAL(k), SUM(k), AVG(m) FROM t
----
avg decimal, avg double, total double, sum integer, avg decimal
18 | 1.35 | 90 | 90 | 0.32

SELECT SUM(k), TOTAL(k), COUNT(*) FROM t WHERE id > 100
----
sum integer, total double, count integer
NULL | 0 | 0

SELECT COUNT(DISTINCT k), SUM(DISTINCT k), COUNT(k) FROM t
----
count integer, sum integer, count integer
3 | 60 | 5

SELECT k % 3 AS r, COUNT(*) FROM t WHERE k IS NOT NULL GROUP BY 1 ORDER BY 1
----
r integer, count integer
0 | 1
1 | 2
2 | 2

SELECT k AS kk, COUNT(*) FROM t GROUP BY kk HAVING COUNT(*) > 1 ORDER BY kk
----
kk integer, count integer
10 | 2
20 | 2

SELECT k, GROUP_CONCAT(v) FROM t GROUP BY k ORDER BY k
----
k integer, group_concat string
NULL | 'Apple'
10 | 'apple,cherry'
20 | 'banana,date'
30 | NULL

SELECT STRING_AGG(v, '; ') FROM t WHERE k = 20
----
string_agg string
'banana; date'

SELECT b, MAX(id) - MIN(id) FROM t GROUP BY b ORDER BY MAX(id)
----
b boolean, col_2 integer
NULL | 0
false | 3
true | 5

-- A column neither grouped nor in an aggregate is an error.
SELECT v, COUNT(*) FROM t GROUP BY k
----
error 176: column "v" must appear in the GROUP BY clause or be used in an aggregate function (line 1, column 8)

SELECT COUNT(*) FROM t WHERE SUM(k) > 1
----
error 179: aggregate functions are not allowed in WHERE (line 1, column 37)

SELECT SUM(COUNT(*)) FROM t
----
error 179: aggregate function calls cannot be nested (line 1, column 12)

SELECT COUNT(*) FROM t HAVING COUNT(*) > 100
----
count integer

SELECT DISTINCT k % 2 FROM t WHERE k IS NOT NULL ORDER BY 1
----
col_1 integer
0
