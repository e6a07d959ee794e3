-- The chain starts from an all-zero hash; appends lock this row (see src/ledger/repo.ts).
INSERT INTO "ledger_head" ("id", "seq", "hash")
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
--> statement-breakpoint
-- Append-only: the application never updates or deletes ledger rows. Tampering by someone who
-- bypasses this (a superuser disabling the trigger) is what ledgerVerification detects.
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER ledger_no_update BEFORE UPDATE OR DELETE OR TRUNCATE ON "ledger"
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
