-- A month paid in random order dirties, in each transaction, a page per payment in every tree
-- keyed at random: `payment_lines` (by line) and the payments' id index (by the client's id).
-- Once the month is large, that is every leaf of those trees, and a tree's leaves are as many as
-- its entries are long. Measured in the `sqlite3` shell, 10,000 random inserts into trees of
-- 500,000 rows, 36-character ids, pages written to the WAL: `payment_lines` carrying the id's text
-- 6,172, carrying the payment's rowid 2,830; the id's text index 5,521, a 64-bit key of the id
-- 1,916.
--
-- So here a payment's row gets a rowid of its own (`seq`), `payment_lines` leads to it by that
-- rowid instead of by the id, and the id is found through `id_key`, the first 64 bits of a hash of
-- it (`payment_id_key` in `core`, computed by chitra: SQLite has no such function). Two ids may
-- share a key: a lookup compares the id itself, and the id stays unique by the trigger below.
-- Rows from before get their key when the store next opens (`fill_payment_id_keys`).
DROP VIEW payroll_lines;

CREATE TABLE payments_new (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL,
    id_key      INTEGER,
    line_id     INTEGER NOT NULL,
    run_id      INTEGER NOT NULL,
    amount      INTEGER NOT NULL,
    paid_at     TEXT NOT NULL,
    agent       TEXT NOT NULL,
    method      TEXT NOT NULL CHECK (method = 'point' OR method = 'home' OR method = 'bank' OR method = 'facility'),
    point_id    INTEGER,
    -- How identity was checked, and by whom the money was received (JSON).
    proof       TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
INSERT INTO payments_new (id, line_id, run_id, amount, paid_at, agent, method, point_id, proof, recorded_at)
SELECT id, line_id, run_id, amount, paid_at, agent, method, point_id, proof, recorded_at FROM payments ORDER BY rowid;
DROP TABLE payments;
ALTER TABLE payments_new RENAME TO payments;
CREATE INDEX payments_id_key ON payments (id_key);

-- A line is paid at most once: its key here is the line; `payment` is the payment's `seq`.
CREATE TABLE payment_lines_new (
    line_id INTEGER PRIMARY KEY,
    amount  INTEGER NOT NULL,
    payment INTEGER NOT NULL
);
INSERT INTO payment_lines_new (line_id, amount, payment) SELECT line_id, amount, seq FROM payments ORDER BY line_id;
DROP TABLE payment_lines;
ALTER TABLE payment_lines_new RENAME TO payment_lines;

-- An id names one payment; a payment without its key could not be found by it. The trigger can
-- check that a key is there, not that it is the id's (SQLite has no SHA-256): every insert is
-- chitra's `insert_payment_rows`, which computes it; a row written by hand with another key
-- would be found by neither its id nor a repeat of it.
CREATE TRIGGER payments_id_unique BEFORE INSERT ON payments
BEGIN
    SELECT RAISE(ABORT, 'a payment needs the key of its id') WHERE new.id_key IS NULL;
    SELECT RAISE(ABORT, 'UNIQUE constraint failed: payments.id')
    WHERE EXISTS (SELECT 1 FROM payments WHERE id_key = new.id_key AND id = new.id);
END;
CREATE TRIGGER payments_line AFTER INSERT ON payments
BEGIN
    INSERT INTO payment_lines (line_id, amount, payment) VALUES (new.line_id, new.amount, new.seq);
END;
-- A payment once recorded stays as it was: `payment_lines` could not follow a change.
CREATE TRIGGER payments_kept BEFORE DELETE ON payments
BEGIN
    SELECT RAISE(ABORT, 'a payment recorded is never deleted');
END;
CREATE TRIGGER payments_unchanged BEFORE UPDATE OF seq, id, line_id, amount ON payments
BEGIN
    SELECT RAISE(ABORT, 'a payment''s id, line and amount never change');
END;
-- The key is set once: by the insert, or for a row from before by the store as it opens.
CREATE TRIGGER payments_key_kept BEFORE UPDATE OF id_key ON payments WHEN old.id_key IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a payment''s id key never changes');
END;

-- The view of lines as in 0010.
CREATE VIEW payroll_lines AS
SELECT id, run_id, beneficiary_id, channel, point_id, facility_id, home_delivery, category,
       commune_code, monthly, arrears, arrears_months, funeral, carried, reissued, recovery_left,
       total, unpaid_streak,
       CASE WHEN status <> 'due' THEN status
            WHEN EXISTS (SELECT 1 FROM payment_lines p WHERE p.line_id = payroll_line_rows.id) THEN 'paid'
            ELSE 'due' END AS status
FROM payroll_line_rows;
