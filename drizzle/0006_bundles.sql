CREATE TABLE "bundle_versions" (
	"version" text NOT NULL,
	"manifest_digest" text NOT NULL,
	"file_count" integer NOT NULL,
	"sequence" bigint NOT NULL,
	"first_site" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "bundle_versions_version_manifest_digest_pk" PRIMARY KEY("version","manifest_digest")
);
--> statement-breakpoint
CREATE TABLE "delta_applies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"site" text NOT NULL,
	"site_seq" bigint NOT NULL,
	"bundle_kind" text,
	"from_version" text NOT NULL,
	"to_version" text NOT NULL,
	"status" text NOT NULL,
	"sequence" bigint,
	"bundle_digest" text,
	"manifest_digest" text,
	"file_count" integer,
	"check" text,
	"reason" text,
	"at" timestamp (3) with time zone NOT NULL,
	"ledger_seq" bigint,
	CONSTRAINT "delta_applies_site_seq" UNIQUE("site","site_seq")
);
--> statement-breakpoint
CREATE TABLE "site_ledger_entries" (
	"site" text NOT NULL,
	"site_seq" bigint NOT NULL,
	"kind" text NOT NULL,
	"actor" text NOT NULL,
	"at" timestamp (3) with time zone NOT NULL,
	"payload" jsonb NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	"ledger_seq" bigint NOT NULL,
	"imported_by" text NOT NULL,
	"imported_at" timestamp with time zone NOT NULL,
	CONSTRAINT "site_ledger_entries_site_site_seq_pk" PRIMARY KEY("site","site_seq"),
	CONSTRAINT "site_ledger_entries_seq_positive" CHECK ("site_ledger_entries"."site_seq" > 0)
);
--> statement-breakpoint
CREATE INDEX "delta_applies_at_idx" ON "delta_applies" USING btree ("at");