import { readFileSync } from 'node:fs';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { LedgerService } from '../ledger/service.js';
import type { PgPubSub } from '../pubsub/pg.js';
import type { Clock } from '../util/clock.js';
import { DecisionLogParser, type DecisionLogLimits, type DecisionLogPaths } from './decision-log.js';
import { detectorConfig, type DetectorOverrides } from './detector.js';
import { AnomalyEngine, type EngineOptions } from './engine.js';
import { DatabaseIssueSink, GitHubIssueSink, type IssueSink } from './issue-sink.js';
import { AdvisoryLeader } from './leader.js';
import { DecisionPartitions } from './partitions.js';
import { AnomalyService } from './service.js';
import { parseJsonInput } from '../util/json-input.js';

// Any fixed 64-bit number, distinct from the migration lock: the detector leader's lock.
const LEADER_LOCK = 727_145_002;

export interface AnomalyOptions {
  engine: EngineOptions;
  decisionLog: { paths: DecisionLogPaths; limits: DecisionLogLimits };
  maxFutureMs: number;
  tickMs: number;
  /** Base URL of issue links of the database sink (PUBLIC_URL, or the address listened on). */
  publicUrl: () => string;
  sink: { kind: 'database' } | { kind: 'github'; apiUrl: string; repository: string; token: string };
  /** Replaces the configured sink (tests, embedding). */
  sinkOverride?: IssueSink;
}

/** Reads a detector configuration file (JSON, DetectorOverrides), as `ig-anomaly --config` does. */
export function readDetectorOverrides(path: string | undefined): DetectorOverrides {
  if (!path) return {};
  return parseJsonInput(readFileSync(path, 'utf8'), path) as DetectorOverrides;
}

export function anomalyOptions(
  config: Config,
  publicUrl: () => string = () => config.PUBLIC_URL ?? `http://localhost:${config.PORT}`,
): AnomalyOptions {
  const minutes = (m: number) => m * 60_000;
  return {
    engine: {
      detector: detectorConfig({
        ...readDetectorOverrides(config.ANOMALY_DETECTOR_CONFIG),
        intervalMs: config.ANOMALY_INTERVAL_SECONDS * 1000,
      }),
      graceMs: config.ANOMALY_GRACE_SECONDS * 1000,
      slaMs: {
        HIGH: minutes(config.ANOMALY_SLA_HIGH_MINUTES),
        MEDIUM: minutes(config.ANOMALY_SLA_MEDIUM_MINUTES),
        LOW: minutes(config.ANOMALY_SLA_LOW_MINUTES),
      },
      traceUrlTemplate: config.ANOMALY_TRACE_URL_TEMPLATE,
      retentionDays: config.DECISION_RETENTION_DAYS,
    },
    decisionLog: {
      paths: {
        rule: config.DECISION_LOG_RULE_PATH,
        actor: config.DECISION_LOG_ACTOR_PATH,
        resource: config.DECISION_LOG_RESOURCE_PATH,
        allowed: config.DECISION_LOG_ALLOW_PATH,
        traceId: config.DECISION_LOG_TRACE_PATH,
        reason: config.DECISION_LOG_REASON_PATH,
      },
      limits: { maxEvents: config.DECISION_LOG_MAX_EVENTS, maxInflatedBytes: config.DECISION_LOG_MAX_INFLATED_BYTES },
    },
    maxFutureMs: config.ANOMALY_MAX_FUTURE_SECONDS * 1000,
    tickMs: config.ANOMALY_TICK_MS,
    publicUrl,
    sink:
      config.ANOMALY_ISSUE_SINK === 'github'
        ? {
            kind: 'github',
            apiUrl: config.ANOMALY_GITHUB_API_URL,
            repository: config.ANOMALY_GITHUB_REPOSITORY as string,
            token: config.ANOMALY_GITHUB_TOKEN as string,
          }
        : { kind: 'database' },
  };
}

export function createAnomalyService(
  database: Database,
  ledger: LedgerService,
  pubsub: PgPubSub,
  clock: Clock,
  opts: AnomalyOptions,
): AnomalyService {
  const sink: IssueSink =
    opts.sinkOverride ??
    (opts.sink.kind === 'github'
      ? new GitHubIssueSink({ apiUrl: opts.sink.apiUrl, repository: opts.sink.repository, token: opts.sink.token })
      : new DatabaseIssueSink(database.db, clock, opts.publicUrl));
  const partitions = new DecisionPartitions(database.sql);
  const engine = new AnomalyEngine(
    database.db,
    ledger,
    clock,
    new AdvisoryLeader(database.sql, LEADER_LOCK),
    sink,
    opts.engine,
    partitions,
  );
  return new AnomalyService(
    database.db,
    database.sql,
    ledger,
    pubsub,
    clock,
    engine,
    new DecisionLogParser(opts.decisionLog.paths, opts.decisionLog.limits),
    { maxFutureMs: opts.maxFutureMs },
    partitions,
  );
}
