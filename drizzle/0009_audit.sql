CREATE TABLE "audit_engagements" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"auditor" text NOT NULL,
	"scope" jsonb NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"ledger_seq" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_packs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"engagement_id" uuid NOT NULL,
	"version" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"created_by" text NOT NULL,
	"watermark" text NOT NULL,
	"files" jsonb NOT NULL,
	"manifest" jsonb NOT NULL,
	"manifest_digest" text NOT NULL,
	"signature" jsonb NOT NULL,
	"ledger_tree_size" bigint NOT NULL,
	"ledger_root_hash" text NOT NULL,
	"archive" "bytea" NOT NULL,
	"archive_sha256" text NOT NULL,
	"archive_size" integer NOT NULL,
	"ledger_seq" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"engagement_id" uuid NOT NULL,
	"requested_by" text NOT NULL,
	"item" text NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"fulfilled_at" timestamp with time zone,
	"fulfilled_by" text,
	"evidence_ids" jsonb DEFAULT '[]'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cmk_rotations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"key_id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"provider" text NOT NULL,
	"old_version" text NOT NULL,
	"new_version" text NOT NULL,
	"rotated_at" timestamp with time zone NOT NULL,
	"next_due_at" timestamp with time zone NOT NULL,
	"recorded_by" text NOT NULL,
	"ledger_seq" bigint NOT NULL,
	CONSTRAINT "cmk_rotations_due_after_rotation" CHECK ("cmk_rotations"."next_due_at" > "cmk_rotations"."rotated_at")
);
--> statement-breakpoint
CREATE TABLE "pack_access_receipts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"pack_id" uuid NOT NULL,
	"actor" text NOT NULL,
	"at" timestamp (3) with time zone NOT NULL,
	"ledger_seq" bigint NOT NULL,
	"link_id" text,
	CONSTRAINT "pack_access_receipts_ledger_seq_unique" UNIQUE("ledger_seq")
);
--> statement-breakpoint
CREATE TABLE "pack_link_keys" (
	"id" integer PRIMARY KEY NOT NULL,
	"secret" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pack_link_keys_singleton" CHECK ("pack_link_keys"."id" = 1)
);
--> statement-breakpoint
ALTER TABLE "audit_packs" ADD CONSTRAINT "audit_packs_engagement_id_audit_engagements_id_fk" FOREIGN KEY ("engagement_id") REFERENCES "public"."audit_engagements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_requests" ADD CONSTRAINT "audit_requests_engagement_id_audit_engagements_id_fk" FOREIGN KEY ("engagement_id") REFERENCES "public"."audit_engagements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pack_access_receipts" ADD CONSTRAINT "pack_access_receipts_pack_id_audit_packs_id_fk" FOREIGN KEY ("pack_id") REFERENCES "public"."audit_packs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_packs_engagement_idx" ON "audit_packs" USING btree ("engagement_id","created_at");--> statement-breakpoint
CREATE INDEX "audit_requests_engagement_idx" ON "audit_requests" USING btree ("engagement_id","created_at");--> statement-breakpoint
CREATE INDEX "cmk_rotations_key_idx" ON "cmk_rotations" USING btree ("key_id","rotated_at");--> statement-breakpoint
CREATE INDEX "pack_access_receipts_pack_idx" ON "pack_access_receipts" USING btree ("pack_id","ledger_seq");