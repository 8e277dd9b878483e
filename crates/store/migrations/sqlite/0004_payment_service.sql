-- The payment service: points' opening weekdays and monthly schedules, beneficiaries' home
-- coordinates, the flags payments raise, and who collected as a proxy.

-- The days of the week a point opens (the default schedule's weekdays): `mon-sat`, `mon,wed,fri`.
ALTER TABLE payment_points ADD COLUMN opening_days TEXT NOT NULL DEFAULT 'mon-sat';

-- A point's schedule for a month, when one was set (else the default: its pay days on its opening
-- weekdays, 07:00–17:00). Days as `2-10,15`; times `HH:MM`, Vietnam time.
CREATE TABLE point_schedules (
    point_id INTEGER NOT NULL REFERENCES payment_points (id),
    period   INTEGER NOT NULL,
    days     TEXT NOT NULL,
    opens    TEXT NOT NULL,
    closes   TEXT NOT NULL CHECK (opens < closes),
    set_by   TEXT NOT NULL,
    set_at   TEXT NOT NULL,
    PRIMARY KEY (point_id, period)
);

-- Where the beneficiary lives, to check home deliveries against.
ALTER TABLE beneficiaries ADD COLUMN home_latitude REAL;
ALTER TABLE beneficiaries ADD COLUMN home_longitude REAL;

-- Each payment looks up whether its beneficiary is recorded as dead: in the few decisions that
-- record a death, not in all of them.
CREATE INDEX decisions_death ON decisions (beneficiary_id) WHERE death_date IS NOT NULL;

-- What an inspector must see: a payment's flags, with their evidence (JSON), written in the same
-- transaction as the payment.
CREATE TABLE payment_flags (
    payment_id  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind = 'outside_schedule' OR kind = 'dead_beneficiary' OR kind = 'proxy_expired' OR kind = 'proxy_for_many' OR kind = 'home_far_from_address'),
    line_id     INTEGER NOT NULL,
    period      INTEGER NOT NULL,
    point_id    INTEGER,
    evidence    TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (payment_id, kind)
);
CREATE INDEX payment_flags_period ON payment_flags (period, kind);

-- Lines collected by a proxy, by the key that recognises the proxy (never their citizen ID):
-- how many different beneficiaries one proxy collects for in a month.
CREATE TABLE proxy_collections (
    line_id        INTEGER PRIMARY KEY,
    proxy_key      TEXT NOT NULL,
    period         INTEGER NOT NULL,
    beneficiary_id INTEGER NOT NULL,
    payment_id     TEXT NOT NULL
);
CREATE INDEX proxy_collections_proxy ON proxy_collections (proxy_key, period);
