import type { ApolloServerOptionsWithGateway, BaseContext } from '@apollo/server';
import { execute, GraphQLError, printSchema, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/**
 * The compiled executor (GRAPHQL_EXECUTOR=jit, the default): graphql-jit behind Apollo Server's gateway hook,
 * the one place Apollo lets a server replace graphql-js's execute. The schema is the same object
 * graphql-js would run (authorization and input validation are wrapped into its resolvers, see
 * src/auth/authorize.ts), so every field is checked exactly as before; only the walk over the
 * selection set is compiled. Parsing, validation, the pipeline's rules and error masking stay
 * Apollo's. What graphql-jit cannot compile, or a request whose variables it refuses (so the
 * client gets graphql-js's exact messages), runs on graphql-js.
 */

type GatewayInterface = ApolloServerOptionsWithGateway<BaseContext>['gateway'];
type GatewayExecutor = NonNullable<Awaited<ReturnType<GatewayInterface['load']>>['executor']>;
type Compiled = CompiledQuery | null;
/** What graphql-jit puts into `errors`: GraphQLError's fields, not its class. */
type JitError = Pick<GraphQLError, 'message' | 'path' | 'originalError' | 'extensions'>;

/**
 * Plans per parsed document and operation name. Apollo caches parsed documents by query text,
 * so a document object is reused by every request of the same text and the WeakMap frees a
 * plan with its document.
 */
const plans = new WeakMap<DocumentNode, Map<string, Compiled>>();

/** The compiled plan of an operation, or null when graphql-js runs it (exported for its test). */
export function planFor(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined): Compiled {
  let byName = plans.get(document);
  if (!byName) {
    byName = new Map();
    plans.set(document, byName);
  }
  const key = operationName ?? '';
  let plan = byName.get(key);
  if (plan === undefined) {
    try {
      const compiled = compileQuery(schema, document, operationName, { disablingCapturingStackErrors: true });
      plan = isCompiledQuery(compiled) ? compiled : null;
    } catch {
      // A shape the compiler does not handle: graphql-js runs it.
      plan = null;
    }
    byName.set(key, plan);
  }
  return plan;
}

/**
 * graphql-jit's errors are look-alikes (they inherit GraphQLError's prototype without its
 * constructor's fields); Apollo and the pipeline expect graphql-js's own.
 */
function toGraphQLError(e: GraphQLError | JitError): GraphQLError {
  if (Object.getPrototypeOf(e) === GraphQLError.prototype) return e as GraphQLError;
  const original = e.originalError ?? undefined;
  return new GraphQLError(e.message, {
    ...(e.path ? { path: e.path } : {}),
    ...(original ? { originalError: original } : {}),
    ...(e.extensions ? { extensions: e.extensions } : {}),
  });
}

export function jitExecutor(schema: GraphQLSchema): GatewayExecutor {
  return async (rc) => {
    const { document, request, context } = rc;
    const plan = rc.operation.operation === 'subscription' ? null : planFor(schema, document, request.operationName);
    if (plan) {
      const result = (await plan.query(undefined, context, request.variables ?? {})) as ExecutionResult;
      // No data at all: the variables were refused before execution began; graphql-js says why
      // in its own words (and Apollo answers 400 for those).
      if ('data' in result && result.data !== undefined) {
        return result.errors?.length
          ? { ...result, errors: (result.errors as readonly (GraphQLError | JitError)[]).map(toGraphQLError) }
          : result;
      }
    }
    return execute({
      schema,
      document,
      contextValue: context,
      variableValues: request.variables ?? null,
      operationName: request.operationName ?? null,
    }) as Promise<ExecutionResult>;
  };
}

/** A fixed-schema "gateway" whose only job is to hand Apollo the compiled executor. */
export function jitGateway(schema: GraphQLSchema): GatewayInterface {
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => undefined;
    },
    load: async () => ({ executor: jitExecutor(schema) }),
    stop: async () => undefined,
  };
}
