-- The appenders' lock trigger (20261202000803_events_appender_lock.sql), same rule, less
-- work per statement. PL/pgSQL evaluates a "simple" expression (no sub-query, no table)
-- directly, but runs any other through the executor: a plan started and ended per call.
-- The old body paid that twice on every insert: its IF held the pg_locks sub-query (even
-- though a transaction's first statement never reaches it), and PERFORM always runs a
-- SELECT. Here the common path is two simple expressions: the sub-query is only run for a
-- transaction that already has an id, and the lock is taken by an assignment.
CREATE OR REPLACE FUNCTION events_appender_lock() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    locked text;
BEGIN
    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
        IF NOT EXISTS (
            SELECT 1 FROM pg_locks
             WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
               AND classid = 1635018094 AND objid = 1 AND objsubid = 2
        ) THEN
            RAISE EXCEPTION 'events must be the first rows a transaction writes'
                USING HINT = 'the event tail could otherwise pass this transaction while it is open';
        END IF;
    END IF;
    locked := pg_advisory_xact_lock_shared(1635018094, 1);
    RETURN NULL;
END
$$;
