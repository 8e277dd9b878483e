-- The payment writer keeps the keys of the payment ids recorded and the lines paid (`known_ids`),
-- as it does on SQLite, where `data_version` tells it that another connection has committed.
-- Here it is this counter: moved, in the writing transaction itself, by every statement that
-- changes `payments`, whoever writes (another server, the fund advance's facility payments).
-- The payment writer reads it at the start of its transaction, with the journal head held, and
-- again once it has written its own payments: the set is kept only while the counter is where
-- the writer's own last transaction left it. Writes that record no payment (agents signing in,
-- schedules, notices) leave it, and the set, as they are.
--
-- A statement trigger, as `line_copy_version`'s (0011): a COPY of 40,000 payments moves it once.
-- Triggers do not fire under `session_replication_role = replica`: a server paying from a
-- database written so is to be started again.
CREATE TABLE payments_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO payments_version (id, version) VALUES (1, 0);

CREATE FUNCTION payments_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE %I.payments_version SET version = version + 1 WHERE id = 1', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;

CREATE TRIGGER payments_moved AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON payments
    FOR EACH STATEMENT EXECUTE FUNCTION payments_moved();
