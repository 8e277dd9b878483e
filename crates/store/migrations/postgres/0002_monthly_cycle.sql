-- The monthly cycle: payment contracts, payroll runs and their lines, payments, the fund ledger.

CREATE TABLE contracts (
    id             BIGINT PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    office_id      BIGINT NOT NULL REFERENCES offices (id),
    post_office    TEXT NOT NULL,
    area_code      TEXT NOT NULL,
    program        TEXT NOT NULL,
    fee_kind       TEXT NOT NULL CHECK (fee_kind IN ('percent', 'per_beneficiary')),
    -- Basis points for a percentage; đồng per beneficiary paid otherwise.
    fee_value      BIGINT NOT NULL CHECK (fee_value >= 0),
    advance_by_day BIGINT NOT NULL,
    pay_from_day   BIGINT NOT NULL,
    pay_to_day     BIGINT NOT NULL,
    report_by_day  BIGINT NOT NULL,
    valid_from     BIGINT NOT NULL,
    valid_to       BIGINT
);

-- One payroll run per office, program and month, from draft to closed.
CREATE TABLE payroll_runs (
    id           BIGINT PRIMARY KEY,
    office_id    BIGINT NOT NULL REFERENCES offices (id),
    program      TEXT NOT NULL,
    period       BIGINT NOT NULL,
    contract_id  BIGINT NOT NULL REFERENCES contracts (id),
    state        TEXT NOT NULL CHECK (state IN ('draft', 'approved', 'funded', 'paying', 'closed')),
    -- What the payroll knew: decisions recorded before known_until, learned since known_since.
    known_since  DATE NOT NULL,
    known_until  DATE NOT NULL,
    lines        BIGINT NOT NULL,
    total        BIGINT NOT NULL,
    to_advance   BIGINT NOT NULL,
    fee          BIGINT,
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
    id             BIGINT PRIMARY KEY,
    run_id         BIGINT NOT NULL,
    beneficiary_id BIGINT NOT NULL,
    channel        TEXT NOT NULL CHECK (channel IN ('point', 'bank', 'facility')),
    point_id       BIGINT,
    facility_id    BIGINT,
    home_delivery  BIGINT NOT NULL,
    category       TEXT,
    commune_code   TEXT NOT NULL,
    monthly        BIGINT NOT NULL,
    arrears        BIGINT NOT NULL,
    arrears_months BIGINT NOT NULL,
    funeral        BIGINT NOT NULL,
    carried        BIGINT NOT NULL,
    reissued       BIGINT NOT NULL,
    recovery_left  BIGINT NOT NULL,
    total          BIGINT NOT NULL CHECK (total >= 0),
    unpaid_streak  BIGINT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('due', 'paid', 'carried', 'returned'))
);
-- A run's lines (its worklist, its sums, its close) without reading the month's other runs.
CREATE INDEX payroll_lines_run ON payroll_lines (run_id);

-- A payment recorded against a line: at most one per line; the client's id makes it idempotent.
CREATE TABLE payments (
    id          TEXT PRIMARY KEY,
    line_id     BIGINT NOT NULL UNIQUE,
    run_id      BIGINT NOT NULL,
    amount      BIGINT NOT NULL,
    paid_at     TEXT NOT NULL,
    agent       TEXT NOT NULL,
    method      TEXT NOT NULL CHECK (method IN ('point', 'home', 'bank', 'facility')),
    point_id    BIGINT,
    -- How identity was checked, and by whom the money was received (JSON).
    proof       TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);

-- Materialised balances: posted debits and credits per account.
CREATE TABLE accounts (
    name    TEXT PRIMARY KEY,
    kind    TEXT NOT NULL,
    debits  BIGINT NOT NULL DEFAULT 0,
    credits BIGINT NOT NULL DEFAULT 0,
    -- Accounts that hold cash can never go negative.
    CHECK (kind NOT IN ('fund', 'post', 'cash', 'bank') OR debits >= credits)
);

CREATE TABLE transfers (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    debit       TEXT NOT NULL,
    credit      TEXT NOT NULL,
    amount      BIGINT NOT NULL CHECK (amount > 0),
    period      BIGINT NOT NULL,
    on_date     DATE NOT NULL,
    run_id      BIGINT NOT NULL,
    line_id     BIGINT,
    recorded_at TEXT NOT NULL
);
CREATE INDEX transfers_period ON transfers (period, kind);

-- Money returned for beneficiaries who did not collect, owed to them again when they are paid again.
CREATE TABLE payee_balances (
    program        TEXT NOT NULL,
    beneficiary_id BIGINT NOT NULL,
    returned_owed  BIGINT NOT NULL,
    PRIMARY KEY (program, beneficiary_id)
);

-- Lines that went back unpaid: a month never paid out is not recovered when it turns out not to
-- have been owed.
CREATE TABLE payee_returns (
    program        TEXT NOT NULL,
    beneficiary_id BIGINT NOT NULL,
    period         BIGINT NOT NULL,
    line_id        BIGINT NOT NULL,
    amount         BIGINT NOT NULL,
    PRIMARY KEY (program, beneficiary_id, period)
);

-- What an officer must look at: beneficiaries suspended by a close, and why.
CREATE TABLE reviews (
    id             BIGINT PRIMARY KEY,
    beneficiary_id BIGINT NOT NULL REFERENCES beneficiaries (id),
    run_id         BIGINT NOT NULL REFERENCES payroll_runs (id),
    reason         TEXT NOT NULL,
    decision_id    BIGINT REFERENCES decisions (id),
    created_at     TEXT NOT NULL,
    resolved_at    TEXT
);

-- Every change to a beneficiary's row (not only new rows) moves this, so caches know to reload.
INSERT INTO settings (key, value) VALUES ('register_version', '0');
