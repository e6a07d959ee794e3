import type { Server } from 'node:http';
import { parse, specifiedRules, validate, GraphQLError, type GraphQLSchema, type ValidationRule } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { loadManifest, resolvePersisted, type PersistedOperation } from './audit/persisted.js';
import type { Session } from './auth/session.js';
import type { TokenVerifier } from './auth/tokens.js';
import { createContext } from './context.js';
import type { Services } from './services.js';

type Extra = Record<PropertyKey, unknown> & { session?: Session };

/**
 * GraphQL subscriptions over graphql-ws on /graphql. The bearer token travels in
 * connection_init's payload (`{ authorization: "Bearer …" }`); a missing or invalid one closes
 * the socket with 4403 before any operation. Operations get the same validation (depth,
 * aliases) and the same field rules as HTTP.
 */
export function attachSubscriptions(opts: {
  server: Server;
  schema: GraphQLSchema;
  verifier: TokenVerifier;
  services: Services;
  validationRules: ValidationRule[];
}): { close(): Promise<void> } {
  const wss = new WebSocketServer({ server: opts.server, path: '/graphql' });
  const rules = [...specifiedRules, ...opts.validationRules];
  let auditorOperations: Map<string, PersistedOperation>;
  try {
    auditorOperations = loadManifest();
  } catch {
    // Fail closed, as on HTTP: an auditor can run nothing without the manifest.
    auditorOperations = new Map();
  }
  const cleanup = useServer<Record<string, unknown> | undefined, Extra>(
    {
      schema: opts.schema,
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization;
        try {
          const session = await opts.verifier.fromHeader(typeof header === 'string' ? header : null);
          if (!session) return false;
          ctx.extra.session = session;
          return true;
        } catch {
          return false;
        }
      },
      onSubscribe: (ctx, _id, received) => {
        const payload = { ...received };
        if (ctx.extra.session?.roles.has('auditor')) {
          // authz.md: auditors run only persisted operations, over WebSocket as over HTTP.
          const outcome = resolvePersisted(payload, auditorOperations, true);
          if (!outcome.ok) return [new GraphQLError(outcome.message, { extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } })];
        }
        let document;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError('unparsable query')];
        }
        const errors = validate(opts.schema, document, rules);
        if (errors.length) return errors;
        return {
          schema: opts.schema,
          document,
          variableValues: payload.variables ?? undefined,
          operationName: payload.operationName ?? undefined,
          contextValue: createContext(opts.services, ctx.extra.session ?? null),
        };
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
