import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Role } from '../../src/auth/session.js';
import { generateKeyPair } from '../../src/signing/keys.js';
import { mintToken } from '../../src/auth/tokens.js';
import { parseConfig, type Config } from '../../src/config.js';
import { createServer, type ComplianceServer } from '../../src/server.js';
import type { Clock } from '../../src/util/clock.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123456789';

export interface Caller {
  sub?: string;
  roles: Role[];
  tenants?: string[];
  engagements?: string[];
}

export interface GraphQLResult<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } & Record<string, unknown> }[];
}

export interface TestServer {
  server: ComplianceServer;
  db: TestDatabase;
  config: Config;
  url: string;
  /** The metrics listener's /metrics (loopback, an ephemeral port in tests). */
  metricsUrl: string;
  token(caller: Caller): Promise<string>;
  /** POSTs a GraphQL request over real HTTP. `caller` null sends no token. */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, caller?: Caller | null, headers?: Record<string, string>): Promise<GraphQLResult<T>>;
  close(): Promise<void>;
}

export const as = {
  compliance: { sub: 'carol@compliance', roles: ['compliance'], tenants: ['*'] } satisfies Caller,
  viewer: (tenants: string[] = ['*']): Caller => ({ sub: 'vic@viewer', roles: ['viewer'], tenants }),
  ci: { sub: 'ci@pipeline', roles: ['ci'], tenants: ['*'] } satisfies Caller,
  auditor: { sub: 'alice@audit-firm', roles: ['auditor'], tenants: ['*'], engagements: [] } satisfies Caller,
};

/** A real server on a fresh database, listening on a free loopback port. */
export async function startTestServer(opts: { env?: Record<string, string>; clock?: Clock; spanExporter?: SpanExporter } = {}): Promise<TestServer> {
  const db = await createTestDatabase();
  // Each server gets its own DATA_DIR (development signing key) and, in production mode, a key file.
  const dataDir = await mkdtemp(join(tmpdir(), 'ig-data-'));
  const keyFile = opts.env?.NODE_ENV === 'production' ? (await generateKeyPair(join(dataDir, 'prod'))).privateKeyPath : undefined;
  const config = parseConfig({
    DATA_DIR: dataDir,
    ...(keyFile ? { SIGNING_KEY_FILE: keyFile } : {}),
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    METRICS_PORT: '0',
    AUTH_JWT_SECRET: TEST_SECRET,
    DATABASE_URL: db.url,
    // Anomaly detection ticks by hand in tests (engine.tick()): a timer would add queries at random
    // moments to tests that count them. A test that wants the timer sets ANOMALY_TICK_MS.
    ANOMALY_TICK_MS: '0',
    // Likewise the denial recorder's flush timer: tests flush by hand (server.denials.flush()).
    DENIAL_FLUSH_MS: '60000',
    // CI's second pass runs every server-level test on the compiled executor (src/executor.ts).
    ...(process.env.GRAPHQL_EXECUTOR ? { GRAPHQL_EXECUTOR: process.env.GRAPHQL_EXECUTOR } : {}),
    // And the ledger checkpoint timer: checkpoints are made on demand in tests.
    LEDGER_CHECKPOINT_TICK_MS: '0',
    ...opts.env,
  });
  const server = await createServer({ config, database: db.database, applicationName: db.applicationName, ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.spanExporter ? { spanExporter: opts.spanExporter } : {}) });
  const address = await server.listen();
  const url = `${address}/graphql`;
  const token = (c: Caller) =>
    mintToken({ secret: TEST_SECRET, sub: c.sub ?? `${c.roles[0]}@test`, roles: c.roles, tenants: c.tenants ?? [], engagements: c.engagements ?? [], issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE });
  return {
    server,
    db,
    config,
    url,
    metricsUrl: server.metricsUrl() ?? '',
    token,
    async gql(query, variables, caller = as.compliance, headers = {}) {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(caller ? { authorization: `Bearer ${await token(caller)}` } : {}),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as GraphQLResult;
      return { ...body, status: res.status } as GraphQLResult<never>;
    },
    async close() {
      await server.close();
      await db.drop();
    },
  };
}
