CREATE TABLE "anomaly_detector_state" (
	"id" smallint PRIMARY KEY NOT NULL,
	"event_watermark" timestamp (3) with time zone,
	"ingested_at" timestamp (3) with time zone,
	"judged_until" timestamp (3) with time zone,
	CONSTRAINT "anomaly_detector_state_single_row" CHECK ("anomaly_detector_state"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "anomaly_issue_comments" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"issue_number" bigint NOT NULL,
	"body" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "anomaly_issues" (
	"number" bigserial PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"labels" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "anomaly_suppressions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"rule_id" text,
	"actor_pattern" text,
	"reason" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "anomaly_suppressions_scope" CHECK ("anomaly_suppressions"."rule_id" is not null or "anomaly_suppressions"."actor_pattern" is not null),
	CONSTRAINT "anomaly_suppressions_expiry" CHECK ("anomaly_suppressions"."expires_at" > "anomaly_suppressions"."created_at")
);
--> statement-breakpoint
CREATE TABLE "policy_anomalies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"kind" text NOT NULL,
	"rule_id" text NOT NULL,
	"window_start" timestamp (3) with time zone NOT NULL,
	"window_end" timestamp (3) with time zone NOT NULL,
	"observed" integer NOT NULL,
	"baseline" double precision NOT NULL,
	"score" double precision NOT NULL,
	"z_score" double precision NOT NULL,
	"severity" text NOT NULL,
	"primary_actor" text,
	"figures" jsonb NOT NULL,
	"exemplars" jsonb NOT NULL,
	"status" text NOT NULL,
	"suppression_id" uuid,
	"false_positive" boolean,
	"issue_ref" text,
	"issue_url" text,
	"issue_commented_level" integer DEFAULT 0 NOT NULL,
	"detected_at" timestamp (3) with time zone NOT NULL,
	"triage_deadline" timestamp (3) with time zone NOT NULL,
	"next_escalation_at" timestamp (3) with time zone NOT NULL,
	"escalation_level" integer DEFAULT 0 NOT NULL,
	"acknowledged_at" timestamp (3) with time zone,
	"acknowledged_by" text,
	"resolved_at" timestamp (3) with time zone,
	"resolved_by" text,
	CONSTRAINT "policy_anomalies_seq_unique" UNIQUE("seq"),
	CONSTRAINT "policy_anomalies_score_range" CHECK ("policy_anomalies"."score" >= 0 and "policy_anomalies"."score" <= 1),
	CONSTRAINT "policy_anomalies_resolution" CHECK (("policy_anomalies"."status" = 'RESOLVED') = ("policy_anomalies"."false_positive" is not null))
);
--> statement-breakpoint
CREATE TABLE "policy_decisions" (
	"decision_id" text PRIMARY KEY NOT NULL,
	"rule_id" text NOT NULL,
	"actor" text NOT NULL,
	"resource" text NOT NULL,
	"allowed" boolean NOT NULL,
	"reason" text,
	"trace_id" text,
	"at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policy_interval_stats" (
	"rule_id" text NOT NULL,
	"interval_start" timestamp (3) with time zone NOT NULL,
	"total" integer NOT NULL,
	"denies" integer NOT NULL,
	"mix" jsonb,
	"jsd" double precision,
	"spike_flag" boolean NOT NULL,
	"mix_flag" boolean NOT NULL,
	CONSTRAINT "policy_interval_stats_rule_id_interval_start_pk" PRIMARY KEY("rule_id","interval_start")
);
--> statement-breakpoint
CREATE TABLE "policy_rule_state" (
	"rule_id" text PRIMARY KEY NOT NULL,
	"first_interval" timestamp (3) with time zone NOT NULL,
	"spike" jsonb NOT NULL,
	"mix" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "anomaly_issue_comments" ADD CONSTRAINT "anomaly_issue_comments_issue_number_anomaly_issues_number_fk" FOREIGN KEY ("issue_number") REFERENCES "public"."anomaly_issues"("number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "anomaly_issue_comments_issue_idx" ON "anomaly_issue_comments" USING btree ("issue_number");--> statement-breakpoint
CREATE INDEX "anomaly_suppressions_expiry_idx" ON "anomaly_suppressions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "policy_anomalies_status_idx" ON "policy_anomalies" USING btree ("status","next_escalation_at");--> statement-breakpoint
CREATE INDEX "policy_anomalies_rule_idx" ON "policy_anomalies" USING btree ("rule_id","seq");--> statement-breakpoint
CREATE INDEX "policy_decisions_rule_at_idx" ON "policy_decisions" USING btree ("rule_id","at");--> statement-breakpoint
CREATE INDEX "policy_decisions_at_brin" ON "policy_decisions" USING brin ("at");