-- A payment no longer writes its line: the line's row (the widest a payment touched, half the
-- pages a transaction of random payments wrote) stays as the payroll made it until the close.
-- A line is paid when a payment names it; the close writes 'paid' into the rows of the lines
-- paid, so that a closed month reads its statuses as stored. Everything that reads lines reads
-- them through the view `payroll_lines`; what writes them writes `payroll_line_rows`.
ALTER TABLE payroll_lines RENAME TO payroll_line_rows;
CREATE VIEW payroll_lines AS
SELECT id, run_id, beneficiary_id, channel, point_id, facility_id, home_delivery, category,
       commune_code, monthly, arrears, arrears_months, funeral, carried, reissued, recovery_left,
       total, unpaid_streak,
       CASE WHEN status <> 'due' THEN status
            WHEN EXISTS (SELECT 1 FROM payments p WHERE p.line_id = payroll_line_rows.id) THEN 'paid'
            ELSE 'due' END AS status
FROM payroll_line_rows;
