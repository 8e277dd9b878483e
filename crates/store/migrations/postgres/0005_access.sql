-- Users, their roles and scopes, and their sessions (browser cookies and bearer tokens).

CREATE TABLE users (
    id            BIGINT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    -- argon2id, PHC string format; never shown, never journaled.
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    -- country, province:CODE, district:CODE, commune:CODE or point:ID.
    scope         TEXT NOT NULL,
    active        BOOLEAN NOT NULL,
    created_at    TEXT NOT NULL
);

-- A session is known by the SHA-256 of its token: the token itself is never stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL CHECK (kind = 'browser' OR kind = 'bearer'),
    label      TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at   TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
