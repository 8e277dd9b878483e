-- Each pay transfer was written into four structures: the table, its id, `transfers_period
-- (period, kind)` and `transfers_pay_cover (period, kind, line_id, amount)`. The cover's first
-- two columns are the period index's: every query the period index served, the cover serves too.
DROP INDEX transfers_period;

-- Each payment was written into four: the table, its id, its line (UNIQUE) and the three-way
-- match's `payments_line_cover (line_id, amount, id)`. One unique index on the line that carries
-- the amount and the id does the work of both.
CREATE UNIQUE INDEX payments_line ON payments (line_id) INCLUDE (amount, id);
ALTER TABLE payments DROP CONSTRAINT payments_line_id_key;
DROP INDEX payments_line_cover;
