-- A proxy's collections were keyed by their line: each transaction of payments wrote its proxies'
-- rows at random pages of that table, as many pages as it had rows until the table was smaller
-- than that. Over a 1,000,000-line month paid in transactions of 40,000, about 2,000 of each
-- transaction's payments are collected by a proxy, and the table grows to about 1,500 pages:
-- by the month's end each transaction rewrote nearly all of them into the WAL, for rows that are
-- only ever looked up by proxy (`proxy_collections_proxy`). Here a row gets a rowid of its own,
-- in the order it is written, so that a transaction's rows go to the table's last pages. A line
-- is still collected at most once: its payment is (`payment_lines`), and only an accepted payment
-- writes a row here.
CREATE TABLE proxy_collections_new (
    seq            INTEGER PRIMARY KEY,
    line_id        INTEGER NOT NULL,
    proxy_key      TEXT NOT NULL,
    period         INTEGER NOT NULL,
    beneficiary_id INTEGER NOT NULL,
    payment_id     TEXT NOT NULL
);
INSERT INTO proxy_collections_new (line_id, proxy_key, period, beneficiary_id, payment_id)
SELECT line_id, proxy_key, period, beneficiary_id, payment_id FROM proxy_collections ORDER BY line_id;
DROP TABLE proxy_collections;
ALTER TABLE proxy_collections_new RENAME TO proxy_collections;
CREATE INDEX proxy_collections_proxy ON proxy_collections (proxy_key, period);
