import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationTypeNode,
  type ParseOptions,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { DenialRecorder } from './anomalies/denials.js';
import { resolvePersisted, type GraphQLParams, type PersistedOperation } from './audit/persisted.js';
import type { Session } from './auth/session.js';
import type { TokenVerifier } from './auth/tokens.js';
import { DomainError, errorCode, formatError } from './errors.js';
import type { Metrics } from './metrics.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller on the GraphQL route, verified once by the pipeline (null: no token). */
    session: Session | null;
  }
}

/**
 * The one execution pipeline of GraphQL requests, whatever the transport (HTTP through Apollo,
 * WebSocket through graphql-ws): authentication before the document is even parsed, the
 * parse limit (tokens), the validation rules (depth, aliases with `__typename` counted,
 * introspection off in production), persisted-only operations for auditors, one error masking
 * with `extensions.code` on every error, one errors metric, and denials recorded as policy
 * decisions. Each transport only adapts its own shapes to these functions.
 */
export interface PipelineOptions {
  schema: GraphQLSchema;
  production: boolean;
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  verifier: TokenVerifier;
  /** The auditors' persisted operations (empty: auditors run nothing, fail closed). */
  manifest: Map<string, PersistedOperation>;
  metrics: Metrics;
  denials: DenialRecorder;
  /** Where masked errors' details go. */
  log: (err: unknown) => void;
}

/**
 * graphql-armor's rules throw by default, which Apollo answers with a 500; reported through
 * the validation context they become ordinary GRAPHQL_VALIDATION_FAILED errors.
 */
const reportInsteadOfThrow = {
  propagateOnRejection: false,
  onReject: [(ctx: ValidationContext | null, err: GraphQLError) => ctx?.reportError(err)],
};

// The only operation an anonymous caller may send: the federation SDL, which composition tools
// read without a token. Checked on the raw text (bounded) so nothing else is parsed for free.
const SDL_QUERY = /^\s*(?:query\s*(?:[_A-Za-z][_0-9A-Za-z]*\s*)?)?\{\s*_service\s*\{\s*sdl\s*\}\s*\}\s*$/;
const SDL_QUERY_MAX = 256;

export type Admission = { ok: true } | { ok: false; error: GraphQLError };

const withCode = (err: GraphQLError, code: string) =>
  new GraphQLError(err.message, {
    nodes: err.nodes ?? null,
    source: err.source ?? null,
    positions: err.positions ?? null,
    path: err.path ?? null,
    originalError: err.originalError ?? null,
    extensions: { ...err.extensions, code },
  });

/** graphql-js's variable-coercion errors (Apollo's isBadUserInputGraphQLError, for the other transport). */
function isVariableError(e: GraphQLError): boolean {
  const node = e.nodes?.length === 1 ? e.nodes[0] : undefined;
  return node?.kind === Kind.VARIABLE_DEFINITION && e.message.startsWith(`Variable "$${node.variable.name.value}"`);
}

/** A route option's hooks, whether given as one function, several, or none. */
const hooksOf = <T>(hooks: T | T[] | undefined): T[] => (hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]);

export class Pipeline {
  /** Rules on top of graphql-js's specified ones (Apollo adds those itself). */
  readonly rules: ValidationRule[];
  readonly parseOptions: ParseOptions;
  private readonly allRules: ValidationRule[];

  constructor(private readonly opts: PipelineOptions) {
    this.rules = [
      maxDepthRule({ n: opts.maxDepth, flattenFragments: true, ...reportInsteadOfThrow }),
      // graphql-armor allow-lists `__typename` by default: 50,000 of them would then be free.
      maxAliasesRule({ n: opts.maxAliases, allowList: [], ...reportInsteadOfThrow }),
      // Apollo's `introspection: false` covers its own transport only; this rule covers both.
      ...(opts.production ? [NoSchemaIntrospectionCustomRule] : []),
    ];
    this.allRules = [...specifiedRules, ...this.rules];
    this.parseOptions = { maxTokens: opts.maxTokens };
  }

  /** The session of an Authorization header: null without one, UNAUTHENTICATED when invalid. */
  authenticate(header: string | undefined | null): Promise<Session | null> {
    return this.opts.verifier.fromHeader(header);
  }

  /** Whether an anonymous caller may send these parameters (the federation SDL query only). */
  anonymousMay(params: GraphQLParams): boolean {
    const q = params.query;
    return typeof q === 'string' && q.length <= SDL_QUERY_MAX && SDL_QUERY.test(q);
  }

  /**
   * Auditors run only persisted operations (authz.md). Rewrites `params` in place: a known id's
   * text replaces the query. A refusal is counted and recorded as a denial.
   */
  admit(session: Session | null, params: GraphQLParams): Admission {
    const restricted = session?.roles.has('auditor') ?? false;
    const outcome = resolvePersisted(params, this.opts.manifest, restricted);
    if (outcome.ok) return outcome;
    const error = new GraphQLError(outcome.message, { extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } });
    this.observe([error], session, null);
    return { ok: false, error };
  }

  /** Parse (token limit) and validate (every rule), with the codes Apollo gives the same failures. */
  prepare(query: unknown): DocumentNode | GraphQLError[] {
    if (typeof query !== 'string' || query === '')
      return [new GraphQLError('a query is required', { extensions: { code: 'BAD_REQUEST' } })];
    let document: DocumentNode;
    try {
      document = parse(query, this.parseOptions);
    } catch (err) {
      if (err instanceof GraphQLError) return [withCode(err, 'GRAPHQL_PARSE_FAILED')];
      throw err;
    }
    const errors = validate(this.opts.schema, document, this.allRules);
    return errors.length ? errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED')) : document;
  }

  /**
   * Counts every error of an operation by its code and records FORBIDDEN outcomes as denials
   * (actor = sub, resource = root type + response path, reason = the message).
   */
  observe(errors: readonly GraphQLError[], session: Session | null, operation: OperationTypeNode | null): void {
    for (const e of errors) {
      const code = errorCode(e);
      this.opts.metrics.errors.inc({ code });
      if (!session || (code !== 'FORBIDDEN' && code !== 'PERSISTED_QUERY_NOT_IN_LIST')) continue;
      const path = (e.path ?? []).filter((p): p is string => typeof p === 'string').join('.');
      const root = operation ? `${operation[0]?.toUpperCase()}${operation.slice(1)}` : 'Operation';
      this.opts.denials.record({
        actor: session.sub,
        rule: `subgraph.${code}`,
        resource: path ? `${root}.${path}` : root,
        reason: e.message,
      });
    }
  }

  /** Counts a refusal sent before any GraphQL ran (401). */
  refused(code: 'UNAUTHENTICATED'): void {
    this.opts.metrics.errors.inc({ code });
  }

  format(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    return formatError(formatted, error, this.opts.log);
  }

  /** The WebSocket side: graphql-js's raw errors get Apollo's codes, then the same masking. */
  classify(errors: readonly GraphQLError[]): GraphQLError[] {
    return errors.map((e) => (e.extensions.code === undefined && isVariableError(e) ? withCode(e, 'BAD_USER_INPUT') : e));
  }

  formatAll(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
    return errors.map((e) => this.format(e.toJSON(), e));
  }

  formatResult(result: ExecutionResult): FormattedExecutionResult {
    const { errors, ...rest } = result;
    return errors?.length ? { ...rest, errors: this.formatAll(errors) } : rest;
  }

  /**
   * The HTTP side, as Fastify hooks on the GraphQL route (registered before the Apollo plugin so
   * its route inherits them): the token is checked on arrival, before the body is read; an
   * anonymous request that is not the SDL query is refused before anything parses it; an
   * auditor's non-persisted operation is refused before Apollo sees it.
   */
  registerHttp(app: FastifyInstance, path: string): void {
    app.decorateRequest('session', null);
    const onRequest = async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.method !== 'GET' && request.method !== 'POST') return;
      try {
        request.session = await this.authenticate(request.headers.authorization);
      } catch (err) {
        return this.unauthenticated(reply, err instanceof DomainError ? err.message : 'invalid token');
      }
    };
    const preHandler = async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.method !== 'GET' && request.method !== 'POST') return;
      const params = (request.method === 'GET' ? request.query : request.body) as GraphQLParams | GraphQLParams[] | null | undefined;
      const single = typeof params === 'object' && params !== null && !Array.isArray(params) ? params : null;
      if (!request.session) {
        if (single && this.anonymousMay(single)) return;
        return this.unauthenticated(reply, 'a valid bearer token is required');
      }
      // Batches are refused by Apollo (allowBatchedHttpRequests: false); an auditor's never reach it.
      if (!single) {
        if (!request.session.roles.has('auditor')) return;
        const admission = this.admit(request.session, {});
        return admission.ok ? undefined : this.refuse(reply, admission.error);
      }
      const admission = this.admit(request.session, single);
      if (!admission.ok) return this.refuse(reply, admission.error);
      if (request.method === 'GET') {
        // Apollo's Fastify integration reads GET parameters from the raw URL, not request.query.
        const search = new URLSearchParams();
        for (const [k, v] of Object.entries(single)) if (typeof v === 'string') search.set(k, v);
        request.raw.url = `${path}?${search.toString()}`;
      }
    };
    // Hooks of the GraphQL route itself (Apollo's, registered after this), put first: no other
    // route runs them, and the route's requests need not ask which route they are on.
    app.addHook('onRoute', (route) => {
      if (route.url !== path) return;
      route.onRequest = [onRequest, ...hooksOf(route.onRequest)];
      route.preHandler = [preHandler, ...hooksOf(route.preHandler)];
    });
  }

  private unauthenticated(reply: FastifyReply, message: string): FastifyReply {
    this.refused('UNAUTHENTICATED');
    // Built here, not by Apollo: no stack trace (local paths) in any environment.
    return reply
      .code(401)
      .header('content-type', 'application/json; charset=utf-8')
      .header('www-authenticate', 'Bearer')
      .send({ errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] });
  }

  private refuse(reply: FastifyReply, error: GraphQLError): FastifyReply {
    return reply
      .code(400)
      .header('content-type', 'application/json; charset=utf-8')
      .send({ errors: this.formatAll([error]) });
  }
}
