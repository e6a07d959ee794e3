CREATE TABLE "data_migrations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"plan" text NOT NULL,
	"resolver" text NOT NULL,
	"index_name" text NOT NULL,
	"phase" text NOT NULL,
	"read_path" text DEFAULT 'PRIMARY' NOT NULL,
	"shadow_sample_rate" double precision NOT NULL,
	"verdict" text,
	"verdict_report" jsonb,
	"plan_fingerprint" text,
	"plan_shape" jsonb,
	"stage_started_at" timestamp with time zone,
	"failure_reason" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "data_migrations_phase" CHECK ("data_migrations"."phase" in ('PENDING', 'BUILDING_INDEX', 'READY', 'SHADOWING', 'CUT_OVER', 'COMPLETE', 'ROLLED_BACK', 'FAILED')),
	CONSTRAINT "data_migrations_read_path" CHECK ("data_migrations"."read_path" in ('PRIMARY', 'CANDIDATE')),
	CONSTRAINT "data_migrations_verdict" CHECK ("data_migrations"."verdict" is null or "data_migrations"."verdict" in ('PASS', 'MARGINAL', 'FAIL')),
	CONSTRAINT "data_migrations_sample_rate" CHECK ("data_migrations"."shadow_sample_rate" >= 0 and "data_migrations"."shadow_sample_rate" <= 1),
	CONSTRAINT "data_migrations_candidate_phase" CHECK ("data_migrations"."read_path" = 'PRIMARY' or "data_migrations"."phase" in ('CUT_OVER', 'COMPLETE'))
);
--> statement-breakpoint
CREATE TABLE "migration_comparisons" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"migration_id" uuid NOT NULL,
	"served" text NOT NULL,
	"outcome" text NOT NULL,
	"primary_ms" double precision,
	"candidate_ms" double precision,
	"primary_hash" text,
	"candidate_hash" text,
	"args_hash" text NOT NULL,
	"trace_id" text NOT NULL,
	"error" text,
	"exemplar" jsonb,
	"replica" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "migration_comparisons_outcome" CHECK ("migration_comparisons"."outcome" in ('MATCH', 'MISMATCH', 'RACE', 'SHADOW_ERROR', 'SHADOW_TIMEOUT', 'SERVED_ERROR')),
	CONSTRAINT "migration_comparisons_served" CHECK ("migration_comparisons"."served" in ('PRIMARY', 'CANDIDATE'))
);
--> statement-breakpoint
ALTER TABLE "migration_comparisons" ADD CONSTRAINT "migration_comparisons_migration_id_data_migrations_id_fk" FOREIGN KEY ("migration_id") REFERENCES "public"."data_migrations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "data_migrations_one_active" ON "data_migrations" USING btree ("resolver") WHERE phase in ('PENDING', 'BUILDING_INDEX', 'READY', 'SHADOWING', 'CUT_OVER');--> statement-breakpoint
CREATE INDEX "data_migrations_plan_idx" ON "data_migrations" USING btree ("plan","created_at");--> statement-breakpoint
CREATE INDEX "migration_comparisons_window_idx" ON "migration_comparisons" USING btree ("migration_id","served","at");