-- The foundation: journal, reference data, rule tables, the register.
-- Money is BIGINT đồng; months are BIGINT YYYYMM (an integer like SQLite's); dates are DATE;
-- timestamps are TEXT RFC 3339 UTC, so that the journal hashes exactly what was stored.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE journal (
    seq       BIGINT PRIMARY KEY,
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
    id   SMALLINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO journal_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE admin_units (
    id          BIGINT PRIMARY KEY,
    code        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('province', 'district', 'commune', 'hamlet')),
    name        TEXT NOT NULL,
    parent_code TEXT,
    valid_from  DATE,
    valid_to    DATE
);
CREATE UNIQUE INDEX admin_units_key ON admin_units (level, code, COALESCE(valid_from, DATE '0001-01-01'));
CREATE INDEX admin_units_parent ON admin_units (parent_code);

CREATE TABLE unit_successions (
    from_level TEXT NOT NULL,
    from_code  TEXT NOT NULL,
    to_level   TEXT NOT NULL,
    to_code    TEXT NOT NULL,
    on_date    DATE NOT NULL,
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

    from_period   BIGINT NOT NULL,
    to_period     BIGINT
);

CREATE TABLE rule_base_levels (
    program      TEXT NOT NULL,
    from_period  BIGINT NOT NULL,
    amount       BIGINT NOT NULL CHECK (amount >= 0),
    source       TEXT NOT NULL,
    announced_on DATE NOT NULL,
    PRIMARY KEY (program, from_period)
);

CREATE TABLE rule_coefficients (
    category          TEXT NOT NULL REFERENCES rule_categories (code),
    from_period       BIGINT NOT NULL,
    min_age           BIGINT NOT NULL,
    max_age           BIGINT,
    coefficient_milli BIGINT,
    fixed_amount      BIGINT,
    source            TEXT NOT NULL,
    announced_on      DATE NOT NULL,
    PRIMARY KEY (category, from_period, min_age),
    CHECK ((coefficient_milli IS NULL) <> (fixed_amount IS NULL))
);

CREATE TABLE rule_funeral (
    program        TEXT NOT NULL,
    from_period    BIGINT NOT NULL,
    multiple_milli BIGINT NOT NULL,
    source         TEXT NOT NULL,
    announced_on   DATE NOT NULL,
    PRIMARY KEY (program, from_period)
);

CREATE TABLE rule_combinations (
    category      TEXT NOT NULL REFERENCES rule_categories (code),
    with_category TEXT NOT NULL REFERENCES rule_categories (code),
    from_period   BIGINT NOT NULL,
    source        TEXT NOT NULL,
    PRIMARY KEY (category, with_category, from_period)
);

CREATE TABLE offices (
    id         BIGINT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('department', 'district_office', 'commune_committee')),
    name       TEXT NOT NULL,
    unit_code  TEXT NOT NULL,
    valid_from DATE,
    valid_to   DATE
);

CREATE TABLE facilities (
    id           BIGINT PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    commune_code TEXT NOT NULL
);

CREATE TABLE payment_points (
    id           BIGINT PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    commune_code TEXT NOT NULL,
    address      TEXT NOT NULL,
    latitude     DOUBLE PRECISION,
    longitude    DOUBLE PRECISION,
    pay_day_first BIGINT NOT NULL,
    pay_day_last  BIGINT NOT NULL
);
CREATE INDEX payment_points_commune ON payment_points (commune_code);

CREATE TABLE beneficiaries (
    id               BIGINT PRIMARY KEY,
    code             TEXT NOT NULL UNIQUE,
    program          TEXT NOT NULL,
    full_name        TEXT NOT NULL,
    name_key         TEXT NOT NULL,
    birth_date       DATE NOT NULL,
    sex              TEXT NOT NULL CHECK (sex IN ('male', 'female')),
    citizen_id       TEXT NOT NULL UNIQUE,
    payment_point_id BIGINT REFERENCES payment_points (id),
    home_delivery    TEXT,
    -- Paid by transfer to this account instead of in cash, when set.
    bank_name        TEXT,
    bank_account     TEXT,
    created_at       TEXT NOT NULL
);
CREATE INDEX beneficiaries_name_key ON beneficiaries (name_key);
CREATE INDEX beneficiaries_point ON beneficiaries (payment_point_id);

CREATE TABLE addresses (
    beneficiary_id BIGINT NOT NULL REFERENCES beneficiaries (id),
    from_period    BIGINT NOT NULL,
    commune_code   TEXT NOT NULL,
    hamlet         TEXT,
    street         TEXT,
    facility_id    BIGINT REFERENCES facilities (id),
    PRIMARY KEY (beneficiary_id, from_period)
);
CREATE INDEX addresses_commune ON addresses (commune_code);

CREATE TABLE decisions (
    id             BIGINT PRIMARY KEY,
    beneficiary_id BIGINT NOT NULL REFERENCES beneficiaries (id),
    kind           TEXT NOT NULL CHECK (kind IN ('grant', 'adjust', 'suspend', 'resume', 'stop')),
    number         TEXT,
    category       TEXT REFERENCES rule_categories (code),
    replaces       TEXT REFERENCES rule_categories (code),
    dependants     BIGINT NOT NULL,
    effective      BIGINT NOT NULL,
    signed_on      DATE NOT NULL,
    signer         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    death_date     DATE,
    -- The day it was entered (Vietnam time): payrolls know a decision from then.
    recorded_on    DATE NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX decisions_beneficiary ON decisions (beneficiary_id);
CREATE INDEX decisions_recorded ON decisions (recorded_on);
