-- Spend rows are the accountant's record: each window's counter must equal the sum of its
-- granted rows, so rows are never changed or removed.
CREATE TRIGGER budget_spends_no_update BEFORE UPDATE OR DELETE OR TRUNCATE ON "budget_spends"
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
