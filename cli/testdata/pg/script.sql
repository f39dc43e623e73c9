-- psql against picogo's PostgreSQL protocol (cmd/picogo/pg_integration_test.go):
-- its output, stdout and stderr together, is script.out.
CREATE TABLE pg_items (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, name TEXT,
    price DECIMAL, weight DOUBLE, in_stock BOOLEAN, ref UUID, added DATETIME) DISTRIBUTED BY (id);
CREATE TABLE pg_kinds (id INTEGER PRIMARY KEY, label TEXT NOT NULL) DISTRIBUTED GLOBALLY;
INSERT INTO pg_kinds VALUES (0, 'tool'), (1, 'food'), (2, 'toy');
INSERT INTO pg_items VALUES
    (1, 0, 'hammer', 12.50, 1.5, true, '6f1e0c2a-8f55-4a5e-9d6c-1b2a3c4d5e6f', '2024-02-29 13:14:15'),
    (2, 1, 'apple', 0.35, 0.2, true, NULL, '2025-01-01 00:00:00'),
    (3, 1, 'bread', 2.1, 0.5, false, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', NULL),
    (4, 2, 'ball', 5, 0.25, NULL, NULL, NULL),
    (5, 0, NULL, NULL, NULL, false, NULL, NULL),
    (6, 2, 'kite', 19.99, 0.125, true, NULL, NULL);
UPDATE pg_items SET price = price * 2 WHERE kind = 1;
UPDATE pg_items SET name = 'top' WHERE id = 99;
DELETE FROM pg_items WHERE id = 5;
SELECT COUNT(*) FROM pg_items;
SELECT id, name, price, weight, in_stock FROM pg_items WHERE price > 1 ORDER BY price DESC;
SELECT id, name, in_stock, ref, added FROM pg_items ORDER BY id;
SELECT k.label, COUNT(*) AS n, SUM(i.price) AS total, MIN(i.weight) AS lightest
    FROM pg_items i JOIN pg_kinds k ON i.kind = k.id GROUP BY k.label ORDER BY k.label;
SELECT id, name IS NULL AS no_name, COALESCE(name, '-') AS shown FROM pg_items WHERE id > 2 ORDER BY id DESC;
SELECT id, price * 3 AS triple, price + 0.005 AS plus FROM pg_items WHERE in_stock ORDER BY id;
SELECT id FROM pg_items WHERE in_stock IS NULL OR NOT in_stock ORDER BY id;
SELECT name FROM pg_items WHERE ref = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT label, id FROM pg_kinds WHERE label LIKE 't%' ORDER BY id;
SELECT k.label, i.name FROM pg_kinds k LEFT JOIN pg_items i ON i.kind = k.id AND i.price > 10 ORDER BY k.label;
SELECT name FROM pg_items WHERE kind IN (SELECT id FROM pg_kinds WHERE label = 'toy') ORDER BY name;
SELECT DISTINCT kind FROM pg_items ORDER BY kind DESC LIMIT 2 OFFSET 1;
SELECT kind, COUNT(*) AS n, AVG(weight) AS avg_weight, MAX(name) AS last_name
    FROM pg_items GROUP BY kind HAVING COUNT(*) > 1 ORDER BY kind;
SELECT id, price > 5 AS pricey, added > CAST('2024-06-01 00:00:00' AS DATETIME) AS recent FROM pg_items WHERE added IS NOT NULL ORDER BY id;
SELECT id, name FROM pg_items WHERE added > '2024-06-01 00:00:00' OR price = '19.99' ORDER BY id;
SELECT 7 / 2 AS quotient, 7 % 3 AS remainder, -7 / 2 AS negative, 'pico' || 'go' AS joined,
    LENGTH('héllo') AS letters, UPPER('abc') AS upper, CAST('12.345' AS DECIMAL) * 2 AS doubled;
BEGIN;
INSERT INTO pg_items (id, kind, name) VALUES (7, 2, 'yo-yo');
COMMIT;
SELECT id, name, price FROM pg_items WHERE kind = 2 ORDER BY id;
SELECT nope FROM pg_items;
SELECT id / (id - id) FROM pg_items WHERE id = 1;
SELECT 'after the errors' AS still;
DROP TABLE pg_items;
DROP TABLE pg_kinds;
