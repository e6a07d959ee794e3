CREATE TABLE "attestations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"release_id" text NOT NULL,
	"subject_digest" text NOT NULL,
	"bundle_sha256" text NOT NULL,
	"predicate_type" text NOT NULL,
	"builder_id" text,
	"signer_identity" text,
	"issuer" text,
	"rekor_log_index" bigint,
	"verified" boolean NOT NULL,
	"failure_reason" text,
	"verified_at" timestamp with time zone NOT NULL,
	"bundle" jsonb NOT NULL,
	"submitted_by" text NOT NULL,
	"ledger_seq" bigint NOT NULL,
	CONSTRAINT "attestations_once" UNIQUE("release_id","subject_digest","bundle_sha256")
);
--> statement-breakpoint
ALTER TABLE "attestations" ADD CONSTRAINT "attestations_release_id_releases_id_fk" FOREIGN KEY ("release_id") REFERENCES "public"."releases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "attestations_subject_idx" ON "attestations" USING btree ("subject_digest","verified_at");