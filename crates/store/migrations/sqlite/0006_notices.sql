-- Schedule notices: beneficiaries' phone numbers, and the outbox of each month's notices.

-- A beneficiary's mobile number, for notices (personal data: masked in lists and logs).
CREATE TABLE beneficiary_contacts (
    beneficiary_id INTEGER PRIMARY KEY REFERENCES beneficiaries (id),
    phone          TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

-- One notice per payroll line: where, which days and how much, with and without diacritics.
-- The sender works through the pending ones; those without a phone are printed at the point.
CREATE TABLE notices (
    id             INTEGER PRIMARY KEY,
    period         INTEGER NOT NULL,
    line_id        INTEGER NOT NULL UNIQUE,
    beneficiary_id INTEGER NOT NULL,
    point_id       INTEGER,
    commune_code   TEXT NOT NULL,
    phone          TEXT,
    text_vi        TEXT NOT NULL,
    text_ascii     TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status = 'pending' OR status = 'sent' OR status = 'failed' OR status = 'no_phone'),
    attempts       INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    sent_at        TEXT,
    detail         TEXT
);
CREATE INDEX notices_status ON notices (status, id);
CREATE INDEX notices_period_point ON notices (period, point_id);
