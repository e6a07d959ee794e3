CREATE TABLE "promotion_decisions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"release_id" text NOT NULL,
	"allowed" boolean NOT NULL,
	"score" double precision NOT NULL,
	"threshold" double precision NOT NULL,
	"reasons" jsonb NOT NULL,
	"policy_digest" text NOT NULL,
	"decided_by" text NOT NULL,
	"decided_at" timestamp with time zone NOT NULL,
	"ledger_seq" bigint NOT NULL,
	"vsa" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "promotion_decisions" ADD CONSTRAINT "promotion_decisions_release_id_releases_id_fk" FOREIGN KEY ("release_id") REFERENCES "public"."releases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "promotion_decisions_release_idx" ON "promotion_decisions" USING btree ("release_id","decided_at");