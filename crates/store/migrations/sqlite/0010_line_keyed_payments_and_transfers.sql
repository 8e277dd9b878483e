-- What one payment writes, in B-trees that a transaction of random payments touches at a random
-- page each: the payment's id, its line (UNIQUE), the three-way match's cover `(line_id, amount,
-- id)`, the pay transfer's id and its cover `(period, kind, line_id, amount)` — five. The table
-- rows themselves are appended, at the end of their trees. Here the two structures on a payment's
-- line become one table keyed by the line, and those on a line transfer become one keyed by
-- (period, kind, line): three random pages a payment instead of five (the WAL a transaction of
-- payments writes, measured in the shell on a month of 1,000,000 lines: −39 %). Triggers keep
-- them with their rows, on every path that inserts (the payment service, the bulk close).

-- Payments: the line's uniqueness moves to `payment_lines`, which carries what the three-way
-- match and the line lookups read (the amount and the payment's id).
DROP VIEW payroll_lines;
CREATE TABLE payments_new (
    id          TEXT PRIMARY KEY,
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
INSERT INTO payments_new SELECT id, line_id, run_id, amount, paid_at, agent, method, point_id, proof, recorded_at FROM payments ORDER BY rowid;
DROP TABLE payments;
ALTER TABLE payments_new RENAME TO payments;

-- A line is paid at most once: its key here is the line.
CREATE TABLE payment_lines (
    line_id INTEGER PRIMARY KEY,
    amount  INTEGER NOT NULL,
    id      TEXT NOT NULL
);
INSERT INTO payment_lines (line_id, amount, id) SELECT line_id, amount, id FROM payments;
CREATE TRIGGER payments_line AFTER INSERT ON payments
BEGIN
    INSERT INTO payment_lines (line_id, amount, id) VALUES (new.line_id, new.amount, new.id);
END;
-- A payment once recorded stays as it was: `payment_lines` could not follow a change.
CREATE TRIGGER payments_kept BEFORE DELETE ON payments
BEGIN
    SELECT RAISE(ABORT, 'a payment recorded is never deleted');
END;
CREATE TRIGGER payments_unchanged BEFORE UPDATE OF id, line_id, amount ON payments
BEGIN
    SELECT RAISE(ABORT, 'a payment''s id, line and amount never change');
END;

-- The view of lines as in 0009, reading whether a line is paid from `payment_lines`.
CREATE VIEW payroll_lines AS
SELECT id, run_id, beneficiary_id, channel, point_id, facility_id, home_delivery, category,
       commune_code, monthly, arrears, arrears_months, funeral, carried, reissued, recovery_left,
       total, unpaid_streak,
       CASE WHEN status <> 'due' THEN status
            WHEN EXISTS (SELECT 1 FROM payment_lines p WHERE p.line_id = payroll_line_rows.id) THEN 'paid'
            ELSE 'due' END AS status
FROM payroll_line_rows;

-- Transfers: a transfer of a line (pay, carry, return) has the id `<kind>:<line>` made by the
-- cycle's rules in `core`, and its period is its line's: (period, kind, line) identifies it as
-- its id does. Its uniqueness and its lookups move to `transfer_lines`; the id stays unique
-- through its own index for the transfers of no line (allocations, advances, distributions, fees:
-- a handful a run). `seq` names the row (SQLite's rowid: no tree of its own).
CREATE TABLE transfers_new (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    debit       TEXT NOT NULL,
    credit      TEXT NOT NULL,
    amount      INTEGER NOT NULL CHECK (amount > 0),
    period      INTEGER NOT NULL,
    on_date     TEXT NOT NULL,
    run_id      INTEGER NOT NULL,
    line_id     INTEGER,
    recorded_at TEXT NOT NULL
);
INSERT INTO transfers_new (id, kind, debit, credit, amount, period, on_date, run_id, line_id, recorded_at)
SELECT id, kind, debit, credit, amount, period, on_date, run_id, line_id, recorded_at FROM transfers ORDER BY rowid;
DROP TABLE transfers;
ALTER TABLE transfers_new RENAME TO transfers;
CREATE UNIQUE INDEX transfers_id ON transfers (id) WHERE line_id IS NULL;

-- A month's transfers of lines by kind and line, with what the three-way match and the settlement
-- read of them; `seq` leads to the whole row.
CREATE TABLE transfer_lines (
    period  INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    line_id INTEGER NOT NULL,
    amount  INTEGER NOT NULL,
    run_id  INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (period, kind, line_id)
) WITHOUT ROWID;
INSERT INTO transfer_lines (period, kind, line_id, amount, run_id, seq)
SELECT period, kind, line_id, amount, run_id, seq FROM transfers WHERE line_id IS NOT NULL;
CREATE TRIGGER transfers_line AFTER INSERT ON transfers WHEN new.line_id IS NOT NULL
BEGIN
    INSERT INTO transfer_lines (period, kind, line_id, amount, run_id, seq)
    VALUES (new.period, new.kind, new.line_id, new.amount, new.run_id, new.seq);
END;
CREATE TRIGGER transfers_kept BEFORE DELETE ON transfers
BEGIN
    SELECT RAISE(ABORT, 'a transfer posted is never deleted');
END;
CREATE TRIGGER transfers_unchanged BEFORE UPDATE ON transfers
BEGIN
    SELECT RAISE(ABORT, 'a transfer posted never changes');
END;
