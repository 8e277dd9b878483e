-- A trigger costs SQLite a sub-program run for each row it fires on, whatever it then does.
-- Measured in the `sqlite3` shell on a copy of a 1,000,000-line month paid whole, 40,000 rows
-- inserted in one transaction (BENCHMARKS.md, "Payment rows written by the store"):
--
-- - payments with `payments_id_unique` (the key's check and the id's lookup) and `payments_line`:
--   140 ms; without `payments_id_unique`: 97 ms; without either, `payment_lines` written by its
--   own statement: 38 ms and 30 ms, 68 ms in all;
-- - pay transfers with `transfers_line`, which fires on every transfer and writes nothing for a
--   pay transfer: 63-67 ms; without it: 39-40 ms.
--
-- So the store now writes what the triggers wrote, in the same transaction, by statements of its
-- own: a payment's row in `payment_lines` after the payments' rows (the payment's `seq` is given
-- by chitra, as a transfer's is), and a line's transfer other than a pay transfer in
-- `transfer_line_rows` after the transfers' rows. The payment writer and the funding of facility
-- lines are the only writers of payments; transfers are written by one function.
--
-- A payment's id stays unique by a unique index on its key: two payments never share a key. An
-- id whose key another payment's id already has (64 bits of SHA-256: not found by chance) is
-- refused by the payment writer, which looks each new id's key up before it writes.
DROP TRIGGER payments_id_unique;
DROP TRIGGER payments_line;
DROP TRIGGER transfers_line;
DROP INDEX payments_id_key;
CREATE UNIQUE INDEX payments_id_key ON payments (id_key);
