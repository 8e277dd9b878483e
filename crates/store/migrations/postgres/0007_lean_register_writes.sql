-- Indexes that cost every registration and served no query.
--
-- journal.hash was UNIQUE: an index on a random 64-character key, written once per entry and
-- never read; the chain itself (each entry's prev_hash is the previous entry's hash, verified by
-- `chitra audit verify`) is what protects the journal.
ALTER TABLE journal DROP CONSTRAINT journal_hash_key;

-- The name search is `name_key LIKE '%…%'`, which a B-tree index cannot serve.
DROP INDEX beneficiaries_name_key;
