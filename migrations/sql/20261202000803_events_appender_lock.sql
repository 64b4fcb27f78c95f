-- The tail's barrier (projections/src/stream/tail.rs). The tail reads events in transaction
-- id order up to a barrier below which no transaction can still add events. That barrier
-- used to be the snapshot's xmin, which every open transaction in the cluster holds back —
-- read-model writers included, though they never write events. Now each transaction that
-- writes events holds a shared advisory lock from before it has a transaction id until it
-- ends, and the barrier is the smallest id among the holders (or the next id to be given).
--
-- The lock is taken by this statement trigger, before the first row gets its
-- `pg_current_xact_id()`. A transaction that got its id earlier (it wrote something else
-- first) without holding the lock could be passed by the tail while still open, so it is
-- refused: events are the first thing a transaction writes.
CREATE FUNCTION events_appender_lock() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_current_xact_id_if_assigned() IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM pg_locks
         WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
           AND classid = 1635018094 AND objid = 1 AND objsubid = 2
    ) THEN
        RAISE EXCEPTION 'events must be the first rows a transaction writes'
            USING HINT = 'the event tail could otherwise pass this transaction while it is open';
    END IF;
    PERFORM pg_advisory_xact_lock_shared(1635018094, 1);
    RETURN NULL;
END
$$;

CREATE TRIGGER events_appender_lock
    BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_appender_lock();
