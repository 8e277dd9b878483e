-- A payroll reads the returns of the last twelve months, and the money still owed to those whose
-- lines went back: without reading every beneficiary's row of the program.
CREATE INDEX payee_returns_period ON payee_returns (program, period);
CREATE INDEX payee_balances_owed ON payee_balances (program) WHERE returned_owed > 0;

-- The month's lines and payments are written by the million. SQLite checks `x IN (…)` against a
-- table it builds for each row (about a microsecond a row, more than the row's insert); the same
-- rules written as comparisons cost nothing. The tables are rebuilt with them, unchanged otherwise.
CREATE TABLE payroll_lines_new (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER NOT NULL,
    beneficiary_id INTEGER NOT NULL,
    channel        TEXT NOT NULL CHECK (channel = 'point' OR channel = 'bank' OR channel = 'facility'),
    point_id       INTEGER,
    facility_id    INTEGER,
    home_delivery  INTEGER NOT NULL,
    category       TEXT,
    commune_code   TEXT NOT NULL,
    monthly        INTEGER NOT NULL,
    arrears        INTEGER NOT NULL,
    arrears_months INTEGER NOT NULL,
    funeral        INTEGER NOT NULL,
    carried        INTEGER NOT NULL,
    reissued       INTEGER NOT NULL,
    recovery_left  INTEGER NOT NULL,
    total          INTEGER NOT NULL CHECK (total >= 0),
    unpaid_streak  INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status = 'due' OR status = 'paid' OR status = 'carried' OR status = 'returned')
);
INSERT INTO payroll_lines_new SELECT id, run_id, beneficiary_id, channel, point_id, facility_id, home_delivery, category, commune_code, monthly, arrears, arrears_months, funeral, carried, reissued, recovery_left, total, unpaid_streak, status FROM payroll_lines;
DROP TABLE payroll_lines;
ALTER TABLE payroll_lines_new RENAME TO payroll_lines;
CREATE INDEX payroll_lines_run ON payroll_lines (run_id);

CREATE TABLE payments_new (
    id          TEXT PRIMARY KEY,
    line_id     INTEGER NOT NULL UNIQUE,
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
INSERT INTO payments_new SELECT id, line_id, run_id, amount, paid_at, agent, method, point_id, proof, recorded_at FROM payments;
DROP TABLE payments;
ALTER TABLE payments_new RENAME TO payments;

-- The ledger's flows per month, kind and pair of accounts, kept with every transfer posted (in the
-- same transaction): the settlement reads these sums instead of the month's millions of transfers.
CREATE TABLE transfer_sums (
    period  INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    debit   TEXT NOT NULL,
    credit  TEXT NOT NULL,
    amount  INTEGER NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (period, kind, debit, credit)
);
INSERT INTO transfer_sums (period, kind, debit, credit, amount, n)
SELECT period, kind, debit, credit, SUM(amount), COUNT(*) FROM transfers GROUP BY period, kind, debit, credit;

-- The three-way match reads a month's payments and pay transfers in line order from these alone.
CREATE INDEX payments_line_cover ON payments (line_id, amount, id);
CREATE INDEX transfers_pay_cover ON transfers (period, kind, line_id, amount);
