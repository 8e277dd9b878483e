-- Each pay transfer was written into four B-trees: the table, its id, `transfers_period (period,
-- kind)` and `transfers_pay_cover (period, kind, line_id, amount)`. The cover's first two columns
-- are the period index's: every query the period index served, the cover serves as well.
DROP INDEX transfers_period;
