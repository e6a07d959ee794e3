CREATE TABLE "budget_alerts" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"remaining_micro" bigint NOT NULL,
	"total_micro" bigint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"notice" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "budget_overrides" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"epsilon_micro" bigint NOT NULL,
	"status" text NOT NULL,
	"warrant" jsonb NOT NULL,
	"warrant_expires_at" timestamp with time zone NOT NULL,
	"requested_by" text NOT NULL,
	"decided_by" text,
	"rejection_reason" text,
	"created_at" timestamp with time zone NOT NULL,
	"decided_at" timestamp with time zone,
	"ledger_seq" bigint,
	"notice" text,
	CONSTRAINT "budget_overrides_positive" CHECK ("budget_overrides"."epsilon_micro" > 0),
	CONSTRAINT "budget_overrides_two_person" CHECK ("budget_overrides"."decided_by" is null or "budget_overrides"."status" = 'EXPIRED' or "budget_overrides"."decided_by" <> "budget_overrides"."requested_by")
);
--> statement-breakpoint
CREATE TABLE "budget_policies" (
	"tenant_id" text PRIMARY KEY NOT NULL,
	"limit_micro" bigint NOT NULL,
	"window" text NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "budget_spends" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"epsilon_micro" bigint NOT NULL,
	"mechanism" text NOT NULL,
	"query_ref" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"granted" boolean NOT NULL,
	"denial_reason" text,
	"actor" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "budget_spends_idempotency" UNIQUE("tenant_id","idempotency_key"),
	CONSTRAINT "budget_spends_positive" CHECK ("budget_spends"."epsilon_micro" > 0)
);
--> statement-breakpoint
CREATE TABLE "budget_windows" (
	"tenant_id" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"window_end" timestamp with time zone NOT NULL,
	"window" text NOT NULL,
	"limit_micro" bigint NOT NULL,
	"granted_micro" bigint DEFAULT 0 NOT NULL,
	"spent_micro" bigint DEFAULT 0 NOT NULL,
	"alert_level" smallint DEFAULT 0 NOT NULL,
	CONSTRAINT "budget_windows_tenant_id_window_start_pk" PRIMARY KEY("tenant_id","window_start"),
	CONSTRAINT "budget_windows_no_overage" CHECK ("budget_windows"."spent_micro" <= "budget_windows"."limit_micro" + "budget_windows"."granted_micro"),
	CONSTRAINT "budget_windows_non_negative" CHECK ("budget_windows"."spent_micro" >= 0 and "budget_windows"."granted_micro" >= 0 and "budget_windows"."limit_micro" >= 0),
	CONSTRAINT "budget_windows_ordered" CHECK ("budget_windows"."window_end" > "budget_windows"."window_start")
);
--> statement-breakpoint
CREATE INDEX "budget_alerts_tenant_idx" ON "budget_alerts" USING btree ("tenant_id","seq");--> statement-breakpoint
CREATE INDEX "budget_overrides_status_idx" ON "budget_overrides" USING btree ("status","warrant_expires_at");--> statement-breakpoint
CREATE INDEX "budget_spends_window_idx" ON "budget_spends" USING btree ("tenant_id","window_start");