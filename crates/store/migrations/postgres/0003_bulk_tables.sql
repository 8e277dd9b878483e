-- A payroll reads the returns of the last twelve months, and the money still owed to those whose
-- lines went back: without reading every beneficiary's row of the program.
CREATE INDEX payee_returns_period ON payee_returns (program, period);
CREATE INDEX payee_balances_owed ON payee_balances (program) WHERE returned_owed > 0;

-- The ledger's flows per month, kind and pair of accounts, kept with every transfer posted (in the
-- same transaction): the settlement reads these sums instead of the month's millions of transfers.
CREATE TABLE transfer_sums (
    period  BIGINT NOT NULL,
    kind    TEXT NOT NULL,
    debit   TEXT NOT NULL,
    credit  TEXT NOT NULL,
    amount  BIGINT NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (period, kind, debit, credit)
);
INSERT INTO transfer_sums (period, kind, debit, credit, amount, n)
SELECT period, kind, debit, credit, SUM(amount), COUNT(*) FROM transfers GROUP BY period, kind, debit, credit;

-- The three-way match reads a month's payments and pay transfers in line order from these alone.
CREATE INDEX payments_line_cover ON payments (line_id, amount, id);
CREATE INDEX transfers_pay_cover ON transfers (period, kind, line_id, amount);
