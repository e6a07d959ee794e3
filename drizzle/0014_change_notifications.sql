-- Replicas learn of changes from PostgreSQL instead of polling for them (an idle replica reads
-- nothing). Triggers, not the application, announce them, so that every writer is covered: the
-- server, the CLIs, and an operator's SQL (a read-path flip by hand must reach every replica too).
-- A notification carries no data; listeners re-read the table. NOTIFY in a transaction is sent
-- at commit, and identical ones are sent once.

-- A row of data_migrations changed (phase, read path, sample rate, ...): replicas re-read their routes.
CREATE FUNCTION notify_data_migrations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('data_migrations', '');
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER data_migrations_notify AFTER INSERT OR UPDATE OR DELETE ON "data_migrations"
  FOR EACH STATEMENT EXECUTE FUNCTION notify_data_migrations();
--> statement-breakpoint
-- The ledger's head moved: the checkpoint publisher looks whether a checkpoint is due.
CREATE FUNCTION notify_ledger_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ledger_head', NEW.seq::text);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER ledger_head_notify AFTER UPDATE OF "seq" ON "ledger_head"
  FOR EACH ROW WHEN (OLD.seq IS DISTINCT FROM NEW.seq) EXECUTE FUNCTION notify_ledger_head();
