-- UPDATE gives each matching row before and after; values take their
-- column's type.
UPDATE t SET k = k + 1, v = UPPER(v) WHERE id <= 2
----
(1, 10, 'apple', 1.5, 1.10, true, 3) -> (1, 11, 'APPLE', 1.5, 1.10, true, 3)
(2, 20, 'banana', 2.5, 2.20, false, 1) -> (2, 21, 'BANANA', 2.5, 2.20, false, 1)

UPDATE t SET d = 1 WHERE id = 3
----
(3, 10, 'cherry', NULL, 3.30, NULL, 2) -> (3, 10, 'cherry', 1, 3.30, NULL, 2)

UPDATE t SET k = NULL WHERE id = 99
----
no rows

UPDATE t SET id = NULL WHERE id = 1
----
error 23: NULL value in column "id" violates its NOT NULL constraint

UPDATE t SET nope = 1
----
error 176: column "nope" of table "t" does not exist (line 1, column 14)

UPDATE t SET bucket_id = 1
----
error 171: column "bucket_id" is the system's: it cannot be set (line 1, column 14)

-- A string is read as the column's type by CAST's rules (PostgreSQL's
-- untyped literals; its clients send parameters so in the simple
-- protocol); one that is no such value is an error.
UPDATE t SET k = '12', d = '0.5', b = 'true' WHERE id = 1
----
(1, 10, 'apple', 1.5, 1.10, true, 3) -> (1, 12, 'apple', 0.5, 1.10, true, 3)

UPDATE t SET k = 'x' WHERE id = 1
----
error 171: column "k" is integer: cannot cast string('x') to integer

UPDATE t SET k = 1, k = 2
----
error 179: column "k" is set twice (line 1, column 21)

DELETE FROM t WHERE k = 20
----
delete (2, 20, 'banana', 2.5, 2.20, false, 1)
delete (6, 20, 'date', 0, 0, true, 2)

DELETE FROM t WHERE v IS NULL OR id = $1
----
delete (5, 30, NULL, -1.25, -5, false, 1)

INSERT INTO t VALUES (7, 70, 'fig', 7, 7.5, true)
----
insert (7, 70, 'fig', 7, 7.5, true, NULL)

INSERT INTO t (id, v) VALUES (8, 'grape'), (9, NULL)
----
insert (8, NULL, 'grape', NULL, NULL, NULL, NULL)
insert (9, NULL, NULL, NULL, NULL, NULL, NULL)

INSERT INTO t (id, v) SELECT k, name FROM g
----
insert (10, NULL, 'ten', NULL, NULL, NULL, NULL)
insert (20, NULL, 'twenty', NULL, NULL, NULL, NULL)
insert (40, NULL, 'forty', NULL, NULL, NULL, NULL)

INSERT INTO t (v) VALUES ('no id')
----
error 23: NULL value in column "id" violates its NOT NULL constraint

INSERT INTO t VALUES (1)
----
error 171: INSERT into t has 6 columns, row 1 has 1 values

INSERT INTO t (id, id) VALUES (1, 2)
----
error 179: column "id" is named twice

INSERT INTO t (id, bucket_id) VALUES (1, 2)
----
error 171: column "bucket_id" is the system's: it cannot be inserted

-- Numbers take their column's kind; one that does not fit is an error.
INSERT INTO t (id, d, m) VALUES (11, 7, 2), (12.0, 0.5, 1e0)
----
insert (11, NULL, NULL, 7, 2, NULL, NULL)
insert (12, NULL, NULL, 0.5, 1, NULL, NULL)

INSERT INTO t (id) VALUES (1.5)
----
error 171: column "id" is integer: decimal(1.5) does not fit

INSERT INTO t (id) VALUES (CAST(1.5 AS INTEGER))
----
insert (1, NULL, NULL, NULL, NULL, NULL, NULL)
