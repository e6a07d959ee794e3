-- Decision logs at production volume (docs/decision-logs.md): policy_decisions
-- becomes a table partitioned by day (UTC) on "at", so that retention drops whole days and every
-- time-bounded read touches only the days it asks for. The existing rows are copied into the new
-- table inside this migration's transaction and the old table is dropped.
ALTER TABLE "policy_decisions" RENAME TO "policy_decisions_unpartitioned";--> statement-breakpoint
ALTER INDEX "policy_decisions_pkey" RENAME TO "policy_decisions_unpartitioned_pkey";--> statement-breakpoint
ALTER INDEX "policy_decisions_rule_at_idx" RENAME TO "policy_decisions_unpartitioned_rule_at_idx";--> statement-breakpoint
ALTER INDEX "policy_decisions_at_brin" RENAME TO "policy_decisions_unpartitioned_at_brin";--> statement-breakpoint
-- A unique key of a partitioned table must contain the partition key: a decision is the same one
-- when its id and its time are (a retried upload repeats both).
CREATE TABLE "policy_decisions" (
	"decision_id" text NOT NULL,
	"rule_id" text NOT NULL,
	"actor" text NOT NULL,
	"resource" text NOT NULL,
	"allowed" boolean NOT NULL,
	"reason" text,
	"trace_id" text,
	"at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "policy_decisions_pkey" PRIMARY KEY ("decision_id", "at")
) PARTITION BY RANGE ("at");--> statement-breakpoint
CREATE INDEX "policy_decisions_rule_at_idx" ON "policy_decisions" USING btree ("rule_id","at");--> statement-breakpoint
CREATE INDEX "policy_decisions_at_brin" ON "policy_decisions" USING brin ("at");--> statement-breakpoint
-- The partition of one UTC day, created when missing (by ingest for the days it sees and by the
-- detector's leader ahead of time). Serialized on an advisory lock so that two replicas never
-- race on the same CREATE; returns whether it created it.
CREATE FUNCTION "policy_decisions_ensure_partition"(d date) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	part text := 'policy_decisions_' || to_char(d, 'YYYYMMDD');
BEGIN
	IF to_regclass(part) IS NOT NULL THEN
		RETURN false;
	END IF;
	PERFORM pg_advisory_xact_lock(727145013);
	IF to_regclass(part) IS NOT NULL THEN
		RETURN false;
	END IF;
	EXECUTE format('CREATE TABLE %I PARTITION OF policy_decisions FOR VALUES FROM (%L) TO (%L)',
		part, d::text || ' 00:00:00+00', (d + 1)::text || ' 00:00:00+00');
	RETURN true;
END
$$;--> statement-breakpoint
SELECT "policy_decisions_ensure_partition"(d)
FROM (
	SELECT DISTINCT ("at" AT TIME ZONE 'UTC')::date AS d FROM "policy_decisions_unpartitioned"
	UNION
	SELECT (now() AT TIME ZONE 'UTC')::date + k FROM generate_series(0, 3) AS k
) AS days;--> statement-breakpoint
INSERT INTO "policy_decisions" ("decision_id", "rule_id", "actor", "resource", "allowed", "reason", "trace_id", "at")
SELECT "decision_id", "rule_id", "actor", "resource", "allowed", "reason", "trace_id", "at" FROM "policy_decisions_unpartitioned";--> statement-breakpoint
DROP TABLE "policy_decisions_unpartitioned";--> statement-breakpoint
-- What the detector reads: decisions counted per rule, interval, actor and resource, written by
-- the detector's leader as it judges each interval (the raw rows are read once, for that).
CREATE TABLE "policy_decision_rollups" (
	"interval_start" timestamp (3) with time zone NOT NULL,
	"rule_id" text NOT NULL,
	"actor" text NOT NULL,
	"resource" text NOT NULL,
	"decisions" integer NOT NULL,
	"denies" integer NOT NULL,
	CONSTRAINT "policy_decision_rollups_pkey" PRIMARY KEY ("interval_start", "rule_id", "actor", "resource")
);--> statement-breakpoint
-- A day's decisions per rule, written as the day's partition is dropped: kept for good.
CREATE TABLE "policy_decision_days" (
	"rule_id" text NOT NULL,
	"day" date NOT NULL,
	"decisions" bigint NOT NULL,
	"denies" bigint NOT NULL,
	"traced" bigint NOT NULL,
	"actors" integer NOT NULL,
	"resources" integer NOT NULL,
	"first_at" timestamp (3) with time zone NOT NULL,
	"last_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "policy_decision_days_pkey" PRIMARY KEY ("rule_id", "day")
);--> statement-breakpoint
-- A few of a day's denied decisions per rule (traced ones first), copied before the partition goes.
CREATE TABLE "policy_decision_exemplars" (
	"rule_id" text NOT NULL,
	"day" date NOT NULL,
	"decision_id" text NOT NULL,
	"actor" text NOT NULL,
	"resource" text NOT NULL,
	"allowed" boolean NOT NULL,
	"reason" text,
	"trace_id" text,
	"at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "policy_decision_exemplars_pkey" PRIMARY KEY ("rule_id", "day", "decision_id")
);--> statement-breakpoint
-- Retention of the detector's per-interval history deletes by time.
CREATE INDEX "policy_interval_stats_start_idx" ON "policy_interval_stats" USING btree ("interval_start");
