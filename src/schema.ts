import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { parse, type GraphQLSchema } from 'graphql';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { rule } from 'graphql-shield';
import type { Resolvers } from './__generated__/resolvers.js';
import * as anomalies from './anomalies/resolvers.js';
import * as attestations from './attestations/resolvers.js';
import * as audit from './audit/resolvers.js';
import * as budgets from './budgets/resolvers.js';
import * as bundles from './bundles/resolvers.js';
import { applyAuthorization, type AuthorizationReport } from './auth/authorize.js';
import { allow, type RuleTree, type ShieldRule } from './auth/rules.js';
import * as catalog from './catalog/resolvers.js';
import type { Context } from './context.js';
import { forbidden, unauthenticated } from './errors.js';
import { applyInputValidation, DEFAULT_INPUT_LIMITS, type InputLimits } from './input.js';
import * as evidence from './evidence/resolvers.js';
import * as evolution from './evolution/resolvers.js';
import * as ledger from './ledger/resolvers.js';
import * as scorecard from './scorecard/resolvers.js';

export const SCHEMA_DIR = fileURLToPath(new URL('../schema', import.meta.url));

/** The subgraph's SDL: every schema/*.graphql file, one per domain. */
export function loadTypeDefs(): string {
  return readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => readFileSync(`${SCHEMA_DIR}/${f}`, 'utf8'))
    .join('\n');
}

interface DomainModule {
  resolvers: Resolvers;
  rules: RuleTree;
  entities?: Record<string, ShieldRule>;
}

const modules: DomainModule[] = [catalog, evidence, attestations, ledger, budgets, scorecard, bundles, anomalies, evolution, audit];

function merge<T extends object>(parts: T[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const part of parts) {
    for (const [type, fields] of Object.entries(part)) out[type] = { ...out[type], ...(fields as object) };
  }
  return out;
}

/**
 * `_entities` is checked per representation type: a batch is refused as a whole when the caller
 * may not read any type in it, and a type no module serves is refused too.
 */
function entitiesRule(entityRules: Record<string, ShieldRule>): ShieldRule {
  return rule('entities', { cache: 'no_cache' })(async (parent: object, args: { representations?: { __typename?: unknown }[] }, ctx: Context, info) => {
    if (!ctx.session) return unauthenticated();
    const types = new Set((args.representations ?? []).map((r) => String(r.__typename)));
    for (const t of types) {
      const r = entityRules[t];
      if (!r) return forbidden(`entity type ${t} is not served here`);
      const result = await r.resolve(parent, args, ctx, info, {
        debug: false,
        allowExternalErrors: true,
        fallbackRule: r,
        hashFunction: () => t,
      });
      if (result !== true) return result instanceof Error ? result : forbidden();
    }
    return true;
  });
}

export interface BuiltSchema {
  schema: GraphQLSchema;
  rules: RuleTree;
  entityRules: Record<string, ShieldRule>;
  authorization: AuthorizationReport;
}

/** Applies a rule tree to the schema's resolvers (src/auth/authorize.ts unless a caller measures without it). */
export type Authorize = (schema: GraphQLSchema, rules: RuleTree) => AuthorizationReport;

export function buildSchema(limits: InputLimits = DEFAULT_INPUT_LIMITS, authorize: Authorize = applyAuthorization): BuiltSchema {
  const entityRules = Object.assign({}, ...modules.map((m) => m.entities ?? {})) as Record<string, ShieldRule>;
  const rules = merge<RuleTree>([
    ...modules.map((m) => m.rules),
    {
      // Federation plumbing: the SDL is public (composition tools read it without a token);
      // entities are checked per representation type.
      Query: { _service: allow, _entities: entitiesRule(entityRules) },
      _Service: { '*': allow },
    },
  ]) as RuleTree;
  const resolvers = merge<Resolvers>([{ DateTime: DateTimeResolver, JSON: JSONResolver } as Resolvers, ...modules.map((m) => m.resolvers)]);
  const schema = buildSubgraphSchema([{ typeDefs: parse(loadTypeDefs()), resolvers: resolvers as GraphQLResolverMap<unknown> }]);
  // Inside the rules: a caller without the right is refused (and recorded) whatever it sends;
  // arguments are checked before any resolver reads them (the rules read roles, not arguments).
  applyInputValidation(schema, limits);
  const authorization = authorize(schema, rules);
  return { schema, rules, entityRules, authorization };
}
