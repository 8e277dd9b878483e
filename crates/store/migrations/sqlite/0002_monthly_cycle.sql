-- The monthly cycle: payment contracts, payroll runs and their lines, payments, the fund ledger.

CREATE TABLE contracts (
    id             INTEGER PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    office_id      INTEGER NOT NULL REFERENCES offices (id),
    post_office    TEXT NOT NULL,
    area_code      TEXT NOT NULL,
    program        TEXT NOT NULL,
    fee_kind       TEXT NOT NULL CHECK (fee_kind IN ('percent', 'per_beneficiary')),
    -- Basis points for a percentage; đồng per beneficiary paid otherwise.
    fee_value      INTEGER NOT NULL CHECK (fee_value >= 0),
    advance_by_day INTEGER NOT NULL,
    pay_from_day   INTEGER NOT NULL,
    pay_to_day     INTEGER NOT NULL,
    report_by_day  INTEGER NOT NULL,
    valid_from     INTEGER NOT NULL,
    valid_to       INTEGER
);

-- One payroll run per office, program and month, from draft to closed.
CREATE TABLE payroll_runs (
    id           INTEGER PRIMARY KEY,
    office_id    INTEGER NOT NULL REFERENCES offices (id),
    program      TEXT NOT NULL,
    period       INTEGER NOT NULL,
    contract_id  INTEGER NOT NULL REFERENCES contracts (id),
    state        TEXT NOT NULL CHECK (state IN ('draft', 'approved', 'funded', 'paying', 'closed')),
    -- What the payroll knew: decisions recorded before known_until, learned since known_since.
    known_since  TEXT NOT NULL,
    known_until  TEXT NOT NULL,
    lines        INTEGER NOT NULL,
    total        INTEGER NOT NULL,
    to_advance   INTEGER NOT NULL,
    fee          INTEGER,
    generated_by TEXT NOT NULL,
    generated_at TEXT NOT NULL,
    approved_by  TEXT,
    approved_at  TEXT,
    funded_at    TEXT,
    paying_at    TEXT,
    closed_at    TEXT,
    UNIQUE (office_id, program, period)
);

-- One line per beneficiary, program and month. The id is derived from (month, program,
-- beneficiary) (chitra_core::payroll::line_id): the primary key keeps a line unique, and a
-- regenerated draft has the same ids. Written in bulk, so without foreign keys: the run and the
-- beneficiary are checked by the store when the lines are made.
CREATE TABLE payroll_lines (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER NOT NULL,
    beneficiary_id INTEGER NOT NULL,
    channel        TEXT NOT NULL CHECK (channel IN ('point', 'bank', 'facility')),
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
    status         TEXT NOT NULL CHECK (status IN ('due', 'paid', 'carried', 'returned'))
);
-- A run's lines (its worklist, its sums, its close) without reading the month's other runs.
CREATE INDEX payroll_lines_run ON payroll_lines (run_id);

-- A payment recorded against a line: at most one per line; the client's id makes it idempotent.
CREATE TABLE payments (
    id          TEXT PRIMARY KEY,
    line_id     INTEGER NOT NULL UNIQUE,
    run_id      INTEGER NOT NULL,
    amount      INTEGER NOT NULL,
    paid_at     TEXT NOT NULL,
    agent       TEXT NOT NULL,
    method      TEXT NOT NULL CHECK (method IN ('point', 'home', 'bank', 'facility')),
    point_id    INTEGER,
    -- How identity was checked, and by whom the money was received (JSON).
    proof       TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);

-- Materialised balances: posted debits and credits per account.
CREATE TABLE accounts (
    name    TEXT PRIMARY KEY,
    kind    TEXT NOT NULL,
    debits  INTEGER NOT NULL DEFAULT 0,
    credits INTEGER NOT NULL DEFAULT 0,
    -- Accounts that hold cash can never go negative.
    CHECK (kind NOT IN ('fund', 'post', 'cash', 'bank') OR debits >= credits)
);

CREATE TABLE transfers (
    id          TEXT PRIMARY KEY,
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
CREATE INDEX transfers_period ON transfers (period, kind);

-- Money returned for beneficiaries who did not collect, owed to them again when they are paid again.
CREATE TABLE payee_balances (
    program        TEXT NOT NULL,
    beneficiary_id INTEGER NOT NULL,
    returned_owed  INTEGER NOT NULL,
    PRIMARY KEY (program, beneficiary_id)
);

-- Lines that went back unpaid: a month never paid out is not recovered when it turns out not to
-- have been owed.
CREATE TABLE payee_returns (
    program        TEXT NOT NULL,
    beneficiary_id INTEGER NOT NULL,
    period         INTEGER NOT NULL,
    line_id        INTEGER NOT NULL,
    amount         INTEGER NOT NULL,
    PRIMARY KEY (program, beneficiary_id, period)
);

-- What an officer must look at: beneficiaries suspended by a close, and why.
CREATE TABLE reviews (
    id             INTEGER PRIMARY KEY,
    beneficiary_id INTEGER NOT NULL REFERENCES beneficiaries (id),
    run_id         INTEGER NOT NULL REFERENCES payroll_runs (id),
    reason         TEXT NOT NULL,
    decision_id    INTEGER REFERENCES decisions (id),
    created_at     TEXT NOT NULL,
    resolved_at    TEXT
);

-- Every change to a beneficiary's row (not only new rows) moves this, so caches know to reload.
INSERT INTO settings (key, value) VALUES ('register_version', '0');
