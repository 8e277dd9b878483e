-- The payment writer keeps a copy of the lines it pays (`line_cache`), as it does on SQLite. There
-- SQLite's `data_version` tells it that another connection has committed; PostgreSQL has no such
-- number, and its writers may be many connections and many processes. This is one: a counter
-- moved, in the writing transaction itself, by every statement that changes what the copy holds
-- of a line (any column of `payroll_line_rows`) or of its beneficiary (the citizen ID and the
-- home's coordinates). The payment writer reads it at the start of its transaction, before it
-- reads any line: a change committed after that read moved the counter in its own commit, so the
-- next payment transaction sees the counter moved and reads its lines again.
--
-- Statement triggers: a payroll of a million lines written by one statement moves it once. The
-- counter is the one in the schema of the table changed, whatever the writer's `search_path`.
-- Triggers do not fire under `session_replication_role = replica` (`pg_restore
-- --disable-triggers`, logical replication's apply): a server paying from a database written so
-- is to be started again.
CREATE TABLE line_copy_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO line_copy_version (id, version) VALUES (1, 0);

CREATE FUNCTION line_copy_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE %I.line_copy_version SET version = version + 1 WHERE id = 1', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;

CREATE TRIGGER payroll_line_rows_copied AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON payroll_line_rows
    FOR EACH STATEMENT EXECUTE FUNCTION line_copy_moved();
CREATE TRIGGER beneficiaries_copied AFTER INSERT OR DELETE OR TRUNCATE ON beneficiaries
    FOR EACH STATEMENT EXECUTE FUNCTION line_copy_moved();
CREATE TRIGGER beneficiaries_copied_columns AFTER UPDATE OF id, citizen_id, home_latitude, home_longitude ON beneficiaries
    FOR EACH STATEMENT EXECUTE FUNCTION line_copy_moved();
