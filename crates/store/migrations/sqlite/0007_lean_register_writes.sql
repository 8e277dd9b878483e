-- Indexes that cost every registration and served no query.
--
-- journal.hash was UNIQUE: an index on a random 64-character key, written once per entry (a
-- million random inserts for a million-row import) and never read; the chain itself (each entry's
-- prev_hash is the previous entry's hash, verified by `chitra audit verify`) is what protects the
-- journal. SQLite cannot drop a column's UNIQUE constraint, so the table is rebuilt without it.
CREATE TABLE journal_new (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    reason    TEXT NOT NULL,
    payload   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
INSERT INTO journal_new (seq, at, actor, action, subject, reason, payload, prev_hash, hash)
SELECT seq, at, actor, action, subject, reason, payload, prev_hash, hash FROM journal;
DROP TABLE journal;
ALTER TABLE journal_new RENAME TO journal;

-- The name search is `name_key LIKE '%…%'`, which a B-tree index cannot serve.
DROP INDEX beneficiaries_name_key;
