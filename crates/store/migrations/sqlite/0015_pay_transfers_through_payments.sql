-- A payment wrote into four trees keyed at random: the payments' id index twice (the trigger's
-- lookup, then the insert), `payment_lines` and `transfer_lines` (its pay transfer, by line).
-- Measured on copies of a 1,000,000-line month paid in transactions of 40,000 (BENCHMARKS.md),
-- without `transfer_lines`' trigger a transaction went 21-29 % faster: the time is in those
-- descents, not in the pages written.
--
-- So here a pay transfer is no longer written into `transfer_lines`. Every pay transfer is made
-- with its payment, in the same transaction (the writer's payments, and funding's facility
-- lines); the payment now carries the `seq` of its pay transfer (`transfer`, given by chitra as
-- it inserts both), and `payment_lines` with it, so a line's pay transfer is found through the
-- line's payment. A line is paid once (`payment_lines`), and so moved to paid once through its
-- payment; a pay transfer written by any other way would show in the three-way match, which
-- reads the month's pay transfers from the index below (one that grows at its end) and lists a
-- line moved twice.
--
-- The readers keep the name `transfer_lines`: it is now a view of the other kinds' rows and of
-- the pay transfers found through the payments.
ALTER TABLE payments ADD COLUMN transfer INTEGER;
ALTER TABLE payment_lines ADD COLUMN transfer INTEGER;
UPDATE payment_lines SET transfer = tl.seq
FROM transfer_lines tl
WHERE tl.kind = 'pay' AND tl.line_id = payment_lines.line_id;
UPDATE payments SET transfer = pl.transfer
FROM payment_lines pl
WHERE pl.payment = payments.seq;

DROP TRIGGER payments_line;
CREATE TRIGGER payments_line AFTER INSERT ON payments
BEGIN
    INSERT INTO payment_lines (line_id, amount, payment, transfer) VALUES (new.line_id, new.amount, new.seq, new.transfer);
END;
-- A payment's transfer is set once: by the insert, or for a row from before by this migration.
CREATE TRIGGER payments_transfer_kept BEFORE UPDATE OF transfer ON payments
BEGIN
    SELECT RAISE(ABORT, 'a payment''s transfer never changes');
END;

DROP TRIGGER transfers_line;
DELETE FROM transfer_lines WHERE kind = 'pay';
ALTER TABLE transfer_lines RENAME TO transfer_line_rows;
CREATE TRIGGER transfers_line AFTER INSERT ON transfers WHEN new.line_id IS NOT NULL AND new.kind <> 'pay'
BEGIN
    INSERT INTO transfer_line_rows (period, kind, line_id, amount, run_id, seq)
    VALUES (new.period, new.kind, new.line_id, new.amount, new.run_id, new.seq);
END;

-- A month's pay transfers in the order they were made: the three-way match reads them here and
-- sorts them by line itself.
CREATE INDEX transfers_pay ON transfers (period, seq, line_id, amount) WHERE kind = 'pay';

CREATE VIEW transfer_lines AS
SELECT period, kind, line_id, amount, run_id, seq FROM transfer_line_rows
UNION ALL
SELECT t.period, 'pay' AS kind, pl.line_id, t.amount, t.run_id, t.seq
FROM payment_lines pl JOIN transfers t ON t.seq = pl.transfer AND t.kind = 'pay';
