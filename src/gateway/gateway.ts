import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime, getGraphQLWSOptions, type GatewayPlugin } from '@graphql-hive/gateway-runtime';
import httpTransport from '@graphql-mesh/transport-http';
import wsTransport from '@graphql-mesh/transport-ws';
import { composeServices } from '@theguild/federation-composition';
import { getOperationAST, GraphQLError, parse, type ExecutionResult } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { decodeJwt } from 'jose';
import { WebSocketServer, type WebSocket } from 'ws';
import { loadManifest, type PersistedOperation } from '../audit/persisted.js';
// The same close code and reason as the subgraph's, for a client that talks to either.
import { TOKEN_EXPIRED_CLOSE } from '../subscriptions.js';
import { CORE_TYPE_DEFS } from './core-subgraph.js';


export interface GatewayOptions {
  host: string;
  port: number;
  /** This subgraph's GraphQL endpoint (HTTP; its graphql-ws endpoint is the same path). */
  subgraphUrl: string;
  /** The core subgraph's endpoint. */
  coreUrl: string;
  /** How long to wait for the subgraph's SDL (it may still be starting). */
  composeTimeoutMs?: number;
  /** The auditor safelist (default: operations/auditor/persisted-query-manifest.json). */
  manifest?: Map<string, PersistedOperation>;
}

export interface RunningGateway {
  /** http://host:port/graphql */
  url: string;
  supergraphSdl: string;
  close(): Promise<void>;
}

interface Claims {
  roles: string[];
  exp: number | null;
}

/**
 * The claims the gateway acts on, read without verifying the signature: it never grants anything
 * on them, it only refuses more (an auditor's free-form operation) or earlier (at expiry). The
 * subgraph verifies every token it is forwarded, so a forged one gains nothing by passing here.
 */
function claimsOf(authorization: unknown): Claims | null {
  if (typeof authorization !== 'string') return null;
  const m = /^Bearer (\S+)$/.exec(authorization.trim());
  if (!m?.[1]) return null;
  try {
    const c = decodeJwt(m[1]);
    const roles = Array.isArray(c.roles) ? c.roles.filter((r): r is string => typeof r === 'string') : [];
    return { roles, exp: typeof c.exp === 'number' ? c.exp : null };
  } catch {
    return null;
  }
}

/** Fetches the subgraph's SDL (`{ _service { sdl } }`, served without a token), retrying while it starts. */
async function fetchSdl(url: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ _service { sdl } }' }),
      });
      const body = (await res.json()) as { data?: { _service?: { sdl?: string } } };
      const sdl = body.data?._service?.sdl;
      if (sdl) return sdl;
      throw new Error(`${url} answered ${res.status} without an SDL`);
    } catch (err) {
      if (Date.now() >= deadline) throw new Error(`cannot read the subgraph's SDL from ${url}: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Composes the supergraph (The Guild's federation composition, MIT) from the two subgraphs' SDL. */
export function compose(complianceSdl: string, subgraphUrl: string, coreUrl: string): string {
  const result = composeServices([
    { name: 'core', typeDefs: parse(CORE_TYPE_DEFS), url: coreUrl },
    { name: 'compliance', typeDefs: parse(complianceSdl), url: subgraphUrl },
  ]);
  if (result.errors) throw new Error(`composition failed:\n  ${result.errors.map((e) => e.message).join('\n  ')}`);
  return result.supergraphSdl;
}

type HeaderBag = Record<string, string | undefined>;
const headersOf = (context: unknown): HeaderBag => (context as { headers?: HeaderBag } | undefined)?.headers ?? {};
const authorizationOf = (context: unknown): string | undefined => headersOf(context).authorization ?? undefined;

/** The caller's W3C trace context (`traceparent`, `tracestate`), as it sent it. */
function traceContextOf(context: unknown): Record<string, string> {
  const headers = headersOf(context);
  const out: Record<string, string> = {};
  for (const k of ['traceparent', 'tracestate'] as const) {
    const v = headers[k];
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/**
 * Forwards the caller's Authorization and trace context to every subgraph fetch: queries,
 * mutations and the entity fetches that join core fields into a subscription's events. The
 * context's headers carry the HTTP request's headers, or, for a graphql-ws client, its
 * connection_init payload (the runtime merges it in), so one hook serves every transport. (The
 * runtime's own propagateHeaders acts only when there is an HTTP request, which a WebSocket
 * client's events do not have.) A subscription goes upstream over graphql-ws on a socket shared by
 * the caller's operations, so its trace context travels in that operation's `extensions`, which
 * the subgraph reads (src/subscriptions.ts). The gateway opens no spans of its own: the subgraph's
 * continue the caller's trace.
 */
const forwardCaller: GatewayPlugin = {
  onFetch({ context, options, setOptions }) {
    const authorization = authorizationOf(context);
    const trace = traceContextOf(context);
    if (authorization || trace.traceparent)
      setOptions({ ...options, headers: { ...options.headers, ...(authorization ? { authorization } : {}), ...trace } });
  },
  onSubgraphExecute({ executionRequest, setExecutionRequest }) {
    const trace = traceContextOf(executionRequest.context);
    const operation = executionRequest.operationType ?? getOperationAST(executionRequest.document, executionRequest.operationName)?.operation;
    if (trace.traceparent && operation === 'subscription')
      setExecutionRequest({ ...executionRequest, extensions: { ...executionRequest.extensions, ...trace } });
  },
};

const refusal = (message: string): ExecutionResult => ({
  errors: [new GraphQLError(message, { extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST', http: { status: 400 } } })],
});

/**
 * The auditor safelist at the edge: an auditor's operation must name an id of the manifest, or it
 * is refused here and never reaches a subgraph. A known id is not planned by the gateway: every
 * auditor operation is served by this subgraph alone, and its planned subgraph query would not be
 * the persisted text the subgraph requires, so the request goes to the subgraph as sent, id and
 * all; the subgraph checks it again on its own (defence in depth).
 */
function auditorSafelist(manifest: Map<string, PersistedOperation>, subgraphUrl: string): GatewayPlugin {
  const withText = <P extends { query?: string | undefined; extensions?: unknown }>(params: P): P => {
    const extensions = (typeof params.extensions === 'string' ? safeJson(params.extensions) : params.extensions) as
      | { persistedQuery?: { sha256Hash?: unknown } }
      | undefined;
    const hash = extensions?.persistedQuery?.sha256Hash;
    const op = typeof hash === 'string' ? manifest.get(hash.toLowerCase()) : undefined;
    return op && (params.query === undefined || params.query === '') ? { ...params, query: op.body } : params;
  };
  return {
    // A request by id alone has its text filled in from the manifest as soon as it is parsed:
    // the server's own parameter check (before onParams) would refuse a request without a query.
    onRequestParse() {
      return {
        onRequestParseDone({ requestParserResult, setRequestParserResult }) {
          setRequestParserResult(
            Array.isArray(requestParserResult) ? requestParserResult.map((p) => withText(p)) : withText(requestParserResult),
          );
        },
      };
    },
    onParams({ params, context, setResult }) {
      const authorization = authorizationOf(context);
      if (!claimsOf(authorization)?.roles.includes('auditor')) return;
      const extensions = (typeof params.extensions === 'string' ? safeJson(params.extensions) : params.extensions) as
        | { persistedQuery?: { sha256Hash?: unknown } }
        | undefined;
      const hash = extensions?.persistedQuery?.sha256Hash;
      const op = typeof hash === 'string' ? manifest.get(hash.toLowerCase()) : undefined;
      if (!op) {
        setResult(refusal('auditors may run only persisted operations; this one is not in the auditor operation list (gateway)'));
        return;
      }
      if (typeof params.query === 'string' && params.query !== '' && params.query !== op.body) {
        setResult(refusal('the query text does not match the persisted operation (gateway)'));
        return;
      }
      return fetch(subgraphUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: authorization ?? '' },
        body: JSON.stringify({
          query: op.body,
          operationName: op.name,
          variables: params.variables ?? {},
          extensions: { persistedQuery: { version: 1, sha256Hash: op.id } },
        }),
      })
        .then((res) => res.json() as Promise<ExecutionResult>)
        .then((result) => setResult(result));
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Hive Gateway (its runtime, programmatically) over the composed supergraph: GraphQL over HTTP
 * and SSE, and graphql-transport-ws on the same /graphql. Subscriptions go to this subgraph over
 * its graphql-ws endpoint with the caller's token in connection_init; one upstream socket per
 * distinct token, shared by that caller's subscriptions.
 */
export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const sdl = await fetchSdl(opts.subgraphUrl, opts.composeTimeoutMs ?? 60_000);
  const supergraphSdl = compose(sdl, opts.subgraphUrl, opts.coreUrl);
  const manifest = opts.manifest ?? loadManifest();
  const gateway = createGatewayRuntime({
    supergraph: supergraphSdl,
    logging: false,
    landingPage: false,
    transports: { http: httpTransport, ws: wsTransport },
    transportEntries: {
      compliance: {
        options: {
          subscriptions: {
            kind: 'ws',
            options: { connectionParams: { authorization: '{context.headers.authorization}' } },
          },
        },
      },
    },
    plugins: () => [forwardCaller, auditorSafelist(manifest, opts.subgraphUrl)],
  });

  // Loads the supergraph now: graphql-ws operations arrive without the HTTP request that would
  // otherwise load it lazily, and would meet no schema.
  await gateway.getSchema();
  const server: Server = createServer(gateway);
  // No permessage-deflate (ws's default, stated so it stays): see src/subscriptions.ts.
  const wss = new WebSocketServer({ server, path: '/graphql', perMessageDeflate: false });
  const expiries = new Map<WebSocket, NodeJS.Timeout>();
  const wsServer = useServer(
    {
      ...getGraphQLWSOptions<Record<string, unknown>, { socket: WebSocket; request: IncomingMessage }>(gateway, (ctx) => ({
        req: ctx.extra.request,
        socket: ctx.extra.socket,
      })),
      onConnect: (ctx) => {
        const claims = claimsOf(ctx.connectionParams?.authorization);
        // A token ends its subscriptions when it expires, with a code a client can act on (sign in again).
        if (claims?.exp != null) {
          const socket = ctx.extra.socket;
          const ms = Math.min(Math.max(claims.exp * 1000 - Date.now(), 0), 2 ** 31 - 1);
          expiries.set(
            socket,
            setTimeout(() => socket.close(TOKEN_EXPIRED_CLOSE.code, TOKEN_EXPIRED_CLOSE.reason), ms),
          );
          socket.once('close', () => {
            clearTimeout(expiries.get(socket));
            expiries.delete(socket);
          });
        }
        return true;
      },
    },
    wss,
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${address.port}/graphql`,
    supergraphSdl,
    async close() {
      for (const t of expiries.values()) clearTimeout(t);
      await wsServer.dispose();
      await new Promise<void>((r) => wss.close(() => r()));
      await gateway.dispose();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
