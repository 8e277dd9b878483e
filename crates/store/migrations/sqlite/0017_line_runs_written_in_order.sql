-- A line's run is found through `payroll_line_runs`, written by the store, instead of an index on
-- `payroll_line_rows (run_id)` kept by SQLite.
--
-- A month's lines are written in id order (the beneficiary's), and the offices' runs interleave
-- in that order: SQLite kept the run index by inserting each line's entry in the middle of its
-- tree. Measured in the `sqlite3` shell, 1,000,000 lines of 34 runs inserted in id order in one
-- transaction (BENCHMARKS.md, "A line's run written in order"): the index was a third or more of
-- the time the lines took. Here the store writes a month's entries once its lines are written,
-- sorted by run and line: a new month's runs have the highest ids, so every entry is appended at
-- the end of the tree.
--
-- The store is the only writer of lines (`write_lines`, then `write_line_runs`, in the same
-- transaction) and the only one to delete them (`clear_draft_lines`, which deletes both). A line's
-- run never changes: a line is written over only by its own run.
DROP INDEX payroll_lines_run;

CREATE TABLE payroll_line_runs (
    run_id  INTEGER NOT NULL,
    line_id INTEGER NOT NULL,
    PRIMARY KEY (run_id, line_id)
) WITHOUT ROWID;
INSERT INTO payroll_line_runs (run_id, line_id) SELECT run_id, id FROM payroll_line_rows ORDER BY run_id, id;

-- The lines of runs: what reads a run's lines reads them here, the run's entries first, each
-- line then by its id. The columns are those of `payroll_lines`; `id` is the entry's, so that an
-- order by id follows the entries' key.
CREATE VIEW run_lines AS
SELECT k.run_id AS run_id, k.line_id AS id, l.beneficiary_id AS beneficiary_id, l.channel AS channel,
       l.point_id AS point_id, l.facility_id AS facility_id, l.home_delivery AS home_delivery,
       l.category AS category, l.commune_code AS commune_code, l.monthly AS monthly,
       l.arrears AS arrears, l.arrears_months AS arrears_months, l.funeral AS funeral,
       l.carried AS carried, l.reissued AS reissued, l.recovery_left AS recovery_left,
       l.total AS total, l.unpaid_streak AS unpaid_streak, l.status AS status
FROM payroll_line_runs k JOIN payroll_lines l ON l.id = k.line_id;
