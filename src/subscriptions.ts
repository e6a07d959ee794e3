import type { IncomingMessage, Server } from 'node:http';
import { execute, getOperationAST, subscribe, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { decodeJwt } from 'jose';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Session } from './auth/session.js';
import { createContext } from './context.js';
import type { Pipeline } from './pipeline.js';
import type { Services } from './services.js';
import { inRemoteSpan } from './tracing.js';

type Extra = Record<PropertyKey, unknown> & { session?: Session; socket: WebSocket; request: IncomingMessage };

const TRACE_FIELDS = ['traceparent', 'tracestate'] as const;

/**
 * The W3C trace context of one operation: from its own `extensions` (what Hive Gateway sends per
 * upstream operation), else the connection_init payload, else the upgrade request's headers.
 */
function traceCarrier(...sources: unknown[]): Record<string, string> {
  for (const source of sources) {
    if (typeof source !== 'object' || source === null) continue;
    const fields = source as Record<string, unknown>;
    if (typeof fields.traceparent !== 'string') continue;
    const carrier: Record<string, string> = {};
    for (const k of TRACE_FIELDS) if (typeof fields[k] === 'string') carrier[k] = fields[k];
    return carrier;
  }
  return {};
}

/** Each operation's trace context, by its context value, from onSubscribe to its execution. */
const carriers = new WeakMap<object, Record<string, string>>();
const traced =
  <R>(run: (args: ExecutionArgs) => R) =>
  (args: ExecutionArgs): R => {
    const operation = getOperationAST(args.document, args.operationName)?.operation ?? 'operation';
    return inRemoteSpan(`graphql-ws ${operation}`, carriers.get(args.contextValue as object) ?? {}, () => run(args));
  };

/** How a socket ends when its token expires: the subscriptions it carries stop with it. */
export const TOKEN_EXPIRED_CLOSE = { code: 4401, reason: 'UNAUTHENTICATED: token expired' } as const;

/** When a verified bearer token expires (ms since the epoch); verification required exp. */
function expiryOf(header: string): number | null {
  const exp = decodeJwt(header.replace(/^Bearer\s+/, '')).exp;
  return typeof exp === 'number' ? exp * 1000 : null;
}

/**
 * GraphQL over graphql-transport-ws on /graphql, through the same pipeline as HTTP
 * (src/pipeline.ts). The bearer token travels in connection_init's payload
 * (`{ authorization: "Bearer …" }`); a missing or invalid one closes the socket with 4403 and
 * the reason UNAUTHENTICATED before any operation (there is no anonymous operation over
 * WebSocket: the SDL is served over HTTP). A connection lives no longer than its token: at
 * the token's exp the socket is closed with 4401 "UNAUTHENTICATED: token expired", ending every
 * subscription on it (the client reconnects with a fresh token and afterSeq). Messages are capped
 * at the HTTP body limit.
 */
export function attachSubscriptions(opts: {
  server: Server;
  schema: GraphQLSchema;
  pipeline: Pipeline;
  services: Services;
  production: boolean;
  maxPayloadBytes: number;
}): { close(): Promise<void> } {
  const { pipeline } = opts;
  // No permessage-deflate (ws's default, stated so it stays): compressing costs CPU per message
  // per subscriber, and an alert fans out to every socket at once.
  const wss = new WebSocketServer({ server: opts.server, path: '/graphql', maxPayload: opts.maxPayloadBytes, perMessageDeflate: false });
  const cleanup = useServer<Record<string, unknown> | undefined, Extra>(
    {
      schema: opts.schema,
      isProd: opts.production,
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization;
        let session: Session | null = null;
        try {
          session = await pipeline.authenticate(typeof header === 'string' ? header : null);
        } catch {
          // Invalid: refused below, as a missing token.
        }
        if (!session) {
          pipeline.refused('UNAUTHENTICATED');
          // graphql-ws would close with 4403 "Forbidden"; the reason carries the code HTTP sends.
          ctx.extra.socket.close(4403, 'UNAUTHENTICATED');
          return false;
        }
        ctx.extra.session = session;
        const expiresAt = expiryOf(header as string);
        if (expiresAt !== null) {
          const socket = ctx.extra.socket;
          // setTimeout's range is ~24.8 days; tokens live at most AUTH_MAX_TOKEN_LIFETIME_SECONDS.
          const timer = setTimeout(
            () => socket.close(TOKEN_EXPIRED_CLOSE.code, TOKEN_EXPIRED_CLOSE.reason),
            Math.min(Math.max(expiresAt - Date.now(), 0), 2 ** 31 - 1),
          );
          socket.once('close', () => clearTimeout(timer));
        }
        return true;
      },
      onSubscribe: (ctx, _id, received) => {
        const session = ctx.extra.session ?? null;
        const payload = { ...received };
        const admission = pipeline.admit(session, payload);
        // Already counted and recorded by admit; onError only formats what it did not see.
        if (!admission.ok) return [admission.error];
        const prepared = pipeline.prepare(payload.query);
        if (Array.isArray(prepared)) {
          pipeline.observe(prepared, session, null);
          return prepared;
        }
        const contextValue = createContext(opts.services, session);
        carriers.set(contextValue, traceCarrier(payload.extensions, ctx.connectionParams, ctx.extra.request.headers));
        return {
          schema: opts.schema,
          document: prepared,
          variableValues: payload.variables ?? undefined,
          operationName: payload.operationName ?? undefined,
          contextValue,
        };
      },
      // Queries and mutations over graphql-ws continue the caller's trace as over HTTP (their
      // decisions and denials take its id); a subscription's span covers setting up its stream.
      execute: traced(execute),
      subscribe: traced(subscribe),
      onError: (_ctx, _id, _payload, errors) => pipeline.formatAll(errors),
      onNext: (ctx, _id, _payload, args, result) => {
        if (!result.errors?.length) return result;
        const errors = pipeline.classify(result.errors);
        pipeline.observe(errors, ctx.extra.session ?? null, getOperationAST(args.document, args.operationName)?.operation ?? null);
        return pipeline.formatResult({ ...result, errors });
      },
    },
    wss,
  );
  return {
    close: async () => {
      await cleanup.dispose();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}
