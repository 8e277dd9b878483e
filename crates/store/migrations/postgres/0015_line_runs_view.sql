-- The names the queries of a run's lines use on both stores (see the SQLite migration
-- `0017_line_runs_written_in_order`). SQLite keeps a line's run in a table of its own, written
-- by the store in order; here the index on `payroll_line_rows (run_id)` stays, and both names
-- are views over the lines.
CREATE VIEW payroll_line_runs AS SELECT run_id, id AS line_id FROM payroll_line_rows;
CREATE VIEW run_lines AS SELECT * FROM payroll_lines;
