-- The foundation: journal, reference data, rule tables, the register.
-- Money is INTEGER đồng; months are INTEGER YYYYMM; dates are TEXT YYYY-MM-DD; timestamps are TEXT RFC 3339 UTC.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE journal (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    reason    TEXT NOT NULL,
    payload   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL UNIQUE
);

-- The end of the chain: one row, locked by every write so that entries are chained one at a time.
CREATE TABLE journal_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO journal_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE admin_units (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('province', 'district', 'commune', 'hamlet')),
    name        TEXT NOT NULL,
    parent_code TEXT,
    valid_from  TEXT,
    valid_to    TEXT
);
CREATE UNIQUE INDEX admin_units_key ON admin_units (level, code, COALESCE(valid_from, '0001-01-01'));
CREATE INDEX admin_units_parent ON admin_units (parent_code);

CREATE TABLE unit_successions (
    from_level TEXT NOT NULL,
    from_code  TEXT NOT NULL,
    to_level   TEXT NOT NULL,
    to_code    TEXT NOT NULL,
    on_date    TEXT NOT NULL,
    PRIMARY KEY (from_level, from_code, to_level, to_code)
);

CREATE TABLE rule_categories (
    code          TEXT PRIMARY KEY,
    program       TEXT NOT NULL,
    clause        TEXT NOT NULL,
    name_vi       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    paid_to       TEXT NOT NULL CHECK (paid_to IN ('beneficiary', 'facility')),
    per_dependant BOOLEAN NOT NULL,
    starts        TEXT NOT NULL CHECK (starts IN ('signing', 'birthday', 'certificate')),

    from_period   INTEGER NOT NULL,
    to_period     INTEGER
);

CREATE TABLE rule_base_levels (
    program      TEXT NOT NULL,
    from_period  INTEGER NOT NULL,
    amount       INTEGER NOT NULL CHECK (amount >= 0),
    source       TEXT NOT NULL,
    announced_on TEXT NOT NULL,
    PRIMARY KEY (program, from_period)
);

CREATE TABLE rule_coefficients (
    category          TEXT NOT NULL REFERENCES rule_categories (code),
    from_period       INTEGER NOT NULL,
    min_age           INTEGER NOT NULL,
    max_age           INTEGER,
    coefficient_milli INTEGER,
    fixed_amount      INTEGER,
    source            TEXT NOT NULL,
    announced_on      TEXT NOT NULL,
    PRIMARY KEY (category, from_period, min_age),
    CHECK ((coefficient_milli IS NULL) <> (fixed_amount IS NULL))
);

CREATE TABLE rule_funeral (
    program        TEXT NOT NULL,
    from_period    INTEGER NOT NULL,
    multiple_milli INTEGER NOT NULL,
    source         TEXT NOT NULL,
    announced_on   TEXT NOT NULL,
    PRIMARY KEY (program, from_period)
);

CREATE TABLE rule_combinations (
    category      TEXT NOT NULL REFERENCES rule_categories (code),
    with_category TEXT NOT NULL REFERENCES rule_categories (code),
    from_period   INTEGER NOT NULL,
    source        TEXT NOT NULL,
    PRIMARY KEY (category, with_category, from_period)
);

CREATE TABLE offices (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('department', 'district_office', 'commune_committee')),
    name       TEXT NOT NULL,
    unit_code  TEXT NOT NULL,
    valid_from TEXT,
    valid_to   TEXT
);

CREATE TABLE facilities (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    commune_code TEXT NOT NULL
);

CREATE TABLE payment_points (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    commune_code TEXT NOT NULL,
    address      TEXT NOT NULL,
    latitude     REAL,
    longitude    REAL,
    pay_day_first INTEGER NOT NULL,
    pay_day_last  INTEGER NOT NULL
);
CREATE INDEX payment_points_commune ON payment_points (commune_code);

CREATE TABLE beneficiaries (
    id               INTEGER PRIMARY KEY,
    code             TEXT NOT NULL UNIQUE,
    program          TEXT NOT NULL,
    full_name        TEXT NOT NULL,
    name_key         TEXT NOT NULL,
    birth_date       TEXT NOT NULL,
    sex              TEXT NOT NULL CHECK (sex IN ('male', 'female')),
    citizen_id       TEXT NOT NULL UNIQUE,
    payment_point_id INTEGER REFERENCES payment_points (id),
    home_delivery    TEXT,
    -- Paid by transfer to this account instead of in cash, when set.
    bank_name        TEXT,
    bank_account     TEXT,
    created_at       TEXT NOT NULL
);
CREATE INDEX beneficiaries_name_key ON beneficiaries (name_key);
CREATE INDEX beneficiaries_point ON beneficiaries (payment_point_id);

CREATE TABLE addresses (
    beneficiary_id INTEGER NOT NULL REFERENCES beneficiaries (id),
    from_period    INTEGER NOT NULL,
    commune_code   TEXT NOT NULL,
    hamlet         TEXT,
    street         TEXT,
    facility_id    INTEGER REFERENCES facilities (id),
    PRIMARY KEY (beneficiary_id, from_period)
);
CREATE INDEX addresses_commune ON addresses (commune_code);

CREATE TABLE decisions (
    id             INTEGER PRIMARY KEY,
    beneficiary_id INTEGER NOT NULL REFERENCES beneficiaries (id),
    kind           TEXT NOT NULL CHECK (kind IN ('grant', 'adjust', 'suspend', 'resume', 'stop')),
    number         TEXT,
    category       TEXT REFERENCES rule_categories (code),
    replaces       TEXT REFERENCES rule_categories (code),
    dependants     INTEGER NOT NULL,
    effective      INTEGER NOT NULL,
    signed_on      TEXT NOT NULL,
    signer         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    death_date     TEXT,
    -- The day it was entered (Vietnam time): payrolls know a decision from then.
    recorded_on    TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX decisions_beneficiary ON decisions (beneficiary_id);
CREATE INDEX decisions_recorded ON decisions (recorded_on);
