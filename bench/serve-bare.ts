// The baseline: a bare graphql-js server on node:http. Same SDL built with @apollo/subgraph's
// buildSubgraphSchema, same SQL (src/evidence/repo.ts evidencePages, one statement per batch)
// on the same pool settings; no Apollo, no authentication or authorization; the parsed and
// validated document is cached per query text.
// It is also the spends phase's baseline (bench/spends.ts): spendPrivacyBudget issues the real
// service's one conditional statement (src/budgets/repo.ts spendOnce) and nothing else: no
// authorization, no input checks beyond epsilon's conversion, no alerts (the bench's budgets
// never reach a threshold).
//
// It also answers `ledger(first: …)` with the real repository's one statement (no tenant scope:
// the bench's callers hold every tenant), for the shapes phase (bench/shapes.ts).
// --jit: the same server executing through graphql-jit's compiled plans (the limit of what a
// compiled executor can save; bench/shapes.ts).
// --apollo: the same schema, resolvers and context served by the product's stack alone: Fastify,
// @apollo/server through @as-integrations/fastify, Apollo's per-field plugins disabled as the
// product disables them, and nothing of the product's (no authentication, rules, metrics). What
// separates it from the bare server is the stack's own cost per request; what separates the real
// server from it is the product's (bench/shapes.ts reports both).
//
//   DATABASE_URL=… BENCH_READY=<file> node bench/.compiled/serve-bare.mjs [--jit | --apollo]
//   (bench/run.sh compiles it with bench/compile.mjs; `node --import tsx bench/serve-bare.ts` runs it too)
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import fastifyApollo from '@as-integrations/fastify';
import { buildSubgraphSchema } from '@apollo/subgraph';
import Fastify from 'fastify';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { execute, parse, validate, type DocumentNode, type ExecutionResult, type GraphQLError } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { TenantScope } from '../src/auth/scope.js';
import { ledgerRepo } from '../src/ledger/repo.js';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { toMicro } from '../src/budgets/epsilon.js';
import { budgetRepo } from '../src/budgets/repo.js';
import { resolvers as budgetResolvers } from '../src/budgets/resolvers.js';
import { windowFromJson, type SpendInput } from '../src/budgets/service.js';
import { connect } from '../src/db/client.js';
import { decodeCursor, encodeCursor } from '../src/evidence/cursor.js';
import { evidencePages } from '../src/evidence/repo.js';
import type { EvidenceConnectionModel } from '../src/evidence/types.js';
import { loadTypeDefs } from '../src/schema.js';
import { groupedLoader } from '../src/util/loader.js';
import { installProfiler, onStop, traceStatements, trackInflight, writeJsonAtomic, type ReadyInfo } from './common.js';

const jit = process.argv.includes('--jit');
const apollo = process.argv.includes('--apollo');
if (jit && apollo) throw new Error('--jit and --apollo are separate variants');
const name = jit ? 'bare-jit' : apollo ? 'bare-apollo' : 'bare';
const url = process.env.DATABASE_URL;
const readyFile = process.env.BENCH_READY;
if (!url || !readyFile) throw new Error('DATABASE_URL and BENCH_READY are required');

const applicationName = `bench-bare-${process.pid}`;
const database = connect(url, { max: Number(process.env.DB_POOL_MAX ?? 10), applicationName });
const statements = traceStatements(database.sql);

interface PageArgs {
  kind: string | null;
  first: number;
  after: string | null;
}

function newContext() {
  return {
    evidence: groupedLoader(
      async (ids: string[], args: PageArgs) => {
        const pages = await evidencePages(database.sql, {
          serviceIds: ids,
          kind: args.kind,
          first: args.first,
          after: args.after ? decodeCursor(args.after) : null,
          tenants: null,
        });
        const out = new Map<string, EvidenceConnectionModel>();
        for (const id of ids) {
          const page = pages.get(id) ?? { total: 0, rows: [] };
          const edges = page.rows.slice(0, args.first).map((node) => ({ cursor: encodeCursor(node), node }));
          out.set(id, {
            edges,
            pageInfo: { hasNextPage: page.rows.length > args.first, endCursor: edges.at(-1)?.cursor ?? null },
            totalCount: page.total,
          });
        }
        return out;
      },
      (a) => `${a.kind ?? ''}|${a.first}|${a.after ?? ''}`,
    ),
  };
}
type BareContext = ReturnType<typeof newContext>;

/** Bounds of each tenant's current window, cached as BudgetService does (they never change). */
const windowBounds = new Map<string, { windowStart: Date; windowEnd: Date }>();
async function currentWindowStart(tenantId: string, at: Date): Promise<Date> {
  const cached = windowBounds.get(tenantId);
  if (cached && cached.windowStart <= at && at < cached.windowEnd) return cached.windowStart;
  const w = await budgetRepo.windowContaining(database.db, tenantId, at);
  if (!w) throw new Error(`no budget window for ${tenantId} (bench/spends.ts sets a policy before spending)`);
  windowBounds.set(tenantId, { windowStart: w.windowStart, windowEnd: w.windowEnd });
  return w.windowStart;
}

async function spend(input: SpendInput) {
  const at = new Date();
  const windowStart = await currentWindowStart(input.tenantId, at);
  const r = await budgetRepo.spendOnce(database.db, {
    tenantId: input.tenantId,
    windowStart,
    micro: toMicro(input.epsilon ?? NaN, 'epsilon'),
    mechanism: input.mechanism,
    queryRef: input.queryRef,
    key: input.idempotencyKey,
    actor: 'bench@bare',
    at,
  });
  // The bench never repeats a key; answering a repeat as the service does is not the baseline's job.
  if (!r.spend) throw new Error(`idempotencyKey ${input.idempotencyKey} was used before`);
  const window = r.window ? windowFromJson(r.window) : await budgetRepo.windowByStart(database.db, input.tenantId, windowStart);
  return { granted: r.spend.granted, spendId: r.spend.id, denialReason: r.spend.denial_reason, window };
}

const resolvers = {
  DateTime: DateTimeResolver,
  JSON: JSONResolver,
  Service: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    evidence: (svc: { id: string }, args: { kind?: string | null; first?: number | null; after?: string | null }, ctx: BareContext) =>
      ctx.evidence.load({ id: svc.id, args: { kind: args.kind ?? null, first: args.first ?? 50, after: args.after ?? null } }),
  },
  Query: {
    ledger: (_p: unknown, args: { kind?: string | null; after?: number | null; first?: number | null }) =>
      ledgerRepo.list(database.db, TenantScope.of('*'), { kind: args.kind ?? null, after: args.after ?? null, first: args.first ?? 100 }),
  },
  Mutation: { spendPrivacyBudget: (_p: unknown, args: { input: SpendInput }) => spend(args.input) },
  // The real server's field resolvers: they only convert the window row.
  SpendResult: budgetResolvers.SpendResult,
  PrivacyBudget: budgetResolvers.PrivacyBudget,
};
const schema = buildSubgraphSchema([{ typeDefs: parse(loadTypeDefs()), resolvers: resolvers as unknown as GraphQLResolverMap<unknown> }]);

const documents = new Map<string, { document: DocumentNode; errors: readonly GraphQLError[]; compiled: CompiledQuery | null }>();
function documentFor(query: string) {
  let d = documents.get(query);
  if (!d) {
    const document = parse(query);
    const errors = validate(schema, document);
    const c = jit && errors.length === 0 ? compileQuery(schema, document) : null;
    d = { document, errors, compiled: c && isCompiledQuery(c) ? c : null };
    if (documents.size < 100) documents.set(query, d);
  }
  return d;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

installProfiler(name);
let requests = 0;
const stats = () =>
  JSON.stringify({ requests, queries: database.queryCount(), statements: Object.fromEntries(statements), inflight: inflight() });

/** The bare server: node:http, the cached document, graphql-js (or its compiled plan). */
function bareServer(): Server {
  return createServer((req, res) => {
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method === 'GET' && req.url === '/stats') return send(200, stats());
    if (req.method === 'GET' && req.url === '/healthz') return send(200, '{"status":"ok"}');
    if (req.method !== 'POST' || req.url !== '/graphql') return send(404, '{"error":"not found"}');
    void (async () => {
      try {
        const { query, variables, operationName } = JSON.parse(await readBody(req)) as {
          query: string;
          variables?: Record<string, unknown>;
          operationName?: string;
        };
        const { document, errors, compiled } = documentFor(query);
        if (errors.length > 0) return send(400, JSON.stringify({ errors }));
        if (compiled) {
          const result = (await compiled.query(undefined, newContext(), variables ?? {})) as ExecutionResult;
          return send(200, compiled.stringify(result));
        }
        const result = await execute({
          schema,
          document,
          variableValues: variables ?? null,
          operationName: operationName ?? null,
          contextValue: newContext(),
        });
        send(200, JSON.stringify(result));
      } catch (err) {
        send(500, JSON.stringify({ errors: [{ message: err instanceof Error ? err.message : String(err) }] }));
      } finally {
        requests++;
      }
    })();
  });
}

/** The stack alone (--apollo): Fastify and Apollo Server as the product configures them, no product code. */
async function apolloServer(): Promise<Server> {
  const app = Fastify({ logger: false });
  const server = new ApolloServer<BareContext>({
    schema,
    allowBatchedHttpRequests: false,
    persistedQueries: false,
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginCacheControlDisabled(), ApolloServerPluginLandingPageDisabled()],
  });
  await server.start();
  app.get('/stats', async (_req, reply) => reply.header('content-type', 'application/json').send(stats()));
  app.addHook('onResponse', (request, _reply, done) => {
    if (request.method === 'POST') requests++;
    done();
  });
  await app.register(fastifyApollo(server), { path: '/graphql', method: ['GET', 'POST'], context: async () => newContext() });
  await app.ready();
  return app.server;
}

const http = apollo ? await apolloServer() : bareServer();
const inflight = trackInflight(http);
http.listen(0, '127.0.0.1', () => {
  const { port } = http.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  writeJsonAtomic(readyFile, {
    name,
    pid: process.pid,
    url: `${base}/graphql`,
    poolApplicationName: applicationName,
    queriesUrl: `${base}/stats`,
    metricsUrl: null,
    requestsUrl: `${base}/stats`,
  } satisfies ReadyInfo);
  process.stdout.write(`[${name}] pid ${process.pid} listening on ${base}\n`);
});
onStop(async () => {
  await new Promise<void>((r) => http.close(() => r()));
  await database.close();
});
