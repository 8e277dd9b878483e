-- Each pay transfer was written into three structures: the table, its id's index and
-- `transfers_pay_cover (period, kind, line_id, amount)`. A transfer of a line (pay, carry,
-- return) has the id `<kind>:<line>` made by the cycle's rules in `core`, and its period is its
-- line's: (period, kind, line) identifies it as its id does. One unique index on them, carrying
-- what the three-way match and the settlement read, does the work of both; the id keeps an index
-- of its own for the transfers of no line (allocations, advances, distributions, fees: a handful
-- a run). SQLite's 0010 does the same with a table keyed by the line.
CREATE UNIQUE INDEX transfers_line ON transfers (period, kind, line_id) INCLUDE (amount, run_id) WHERE line_id IS NOT NULL;
DROP INDEX transfers_pay_cover;
ALTER TABLE transfers DROP CONSTRAINT transfers_pkey;
CREATE UNIQUE INDEX transfers_id ON transfers (id) WHERE line_id IS NULL;

-- The names the queries shared with SQLite read: a payment by its line (0008's index
-- `payments_line (line_id) INCLUDE (amount, id)`), a transfer by its line (`transfers_line`).
CREATE VIEW payment_lines AS
SELECT line_id, amount, id FROM payments;

CREATE VIEW transfer_lines AS
SELECT period, kind, line_id, amount, run_id FROM transfers WHERE line_id IS NOT NULL;
