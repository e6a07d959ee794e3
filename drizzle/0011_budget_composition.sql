ALTER TABLE "budget_alerts" ADD COLUMN "kind" text DEFAULT 'THRESHOLD' NOT NULL;--> statement-breakpoint
ALTER TABLE "budget_alerts" ADD COLUMN "projected_exhaustion_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "budget_policies" ADD COLUMN "composition" text DEFAULT 'BASIC' NOT NULL;--> statement-breakpoint
ALTER TABLE "budget_policies" ADD COLUMN "delta" double precision;--> statement-breakpoint
ALTER TABLE "budget_spends" ADD COLUMN "charged_micro" bigint;--> statement-breakpoint
ALTER TABLE "budget_spends" ADD COLUMN "params" jsonb;--> statement-breakpoint
ALTER TABLE "budget_windows" ADD COLUMN "composition" text DEFAULT 'BASIC' NOT NULL;--> statement-breakpoint
ALTER TABLE "budget_windows" ADD COLUMN "delta" double precision;--> statement-breakpoint
ALTER TABLE "budget_windows" ADD COLUMN "orders" numeric[];--> statement-breakpoint
ALTER TABLE "budget_windows" ADD COLUMN "rdp_curve" numeric[];--> statement-breakpoint
ALTER TABLE "budget_windows" ADD COLUMN "rho" numeric;--> statement-breakpoint
ALTER TABLE "budget_windows" ADD COLUMN "forecast_alerted" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "budget_policies" ADD CONSTRAINT "budget_policies_composition" CHECK ("budget_policies"."composition" in ('BASIC', 'RDP', 'ZCDP') and ("budget_policies"."composition" = 'BASIC' or ("budget_policies"."delta" is not null and "budget_policies"."delta" > 0 and "budget_policies"."delta" < 1)));--> statement-breakpoint
ALTER TABLE "budget_windows" ADD CONSTRAINT "budget_windows_composition" CHECK (("budget_windows"."composition" = 'BASIC' and "budget_windows"."rdp_curve" is null and "budget_windows"."rho" is null) or ("budget_windows"."composition" = 'RDP' and "budget_windows"."delta" is not null and "budget_windows"."rdp_curve" is not null and "budget_windows"."orders" is not null and cardinality("budget_windows"."rdp_curve") = cardinality("budget_windows"."orders")) or ("budget_windows"."composition" = 'ZCDP' and "budget_windows"."delta" is not null and "budget_windows"."rho" is not null and "budget_windows"."rho" >= 0 and "budget_windows"."orders" is not null and cardinality("budget_windows"."orders") > 0));