ALTER TABLE "ledger" ADD COLUMN "tenants" text[];--> statement-breakpoint
ALTER TABLE "audit_packs" ADD COLUMN "tenants" text[];