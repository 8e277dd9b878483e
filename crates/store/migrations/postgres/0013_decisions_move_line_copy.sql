-- The payment writer's copy of the lines (`line_cache`, counter `line_copy_version` of 0011) now
-- holds each beneficiary's death on record too, read with the line from the index of deaths
-- (`decisions_death`), where a payment transaction looked the deaths of its lines' beneficiaries
-- up each time. A decision recorded, changed or removed, whoever writes it, moves the counter, so
-- the next payment transaction reads its lines, and their deaths, again.
CREATE TRIGGER decisions_copied AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON decisions
    FOR EACH STATEMENT EXECUTE FUNCTION line_copy_moved();
