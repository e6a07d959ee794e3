import { allow, deny, rule, type and } from 'graphql-shield';
import type { Context } from '../context.js';
import { forbidden, unauthenticated } from '../errors.js';
import type { Role } from './session.js';

export { allow, deny };
/** graphql-shield's rule type (a rule or a logic rule), which the package does not export. */
export type ShieldRule = Parameters<typeof and>[number];

/** Rules whose outcome depends only on the caller: evaluated once per request, then memoized. */
export const contextualRules = new WeakSet<object>();

function contextual(name: string, check: (ctx: Context) => true | Error): ShieldRule {
  const r = rule(name, { cache: 'contextual' })((_parent: unknown, _args: unknown, ctx: Context) => check(ctx));
  contextualRules.add(r);
  return r;
}

export const isAuthenticated = contextual('isAuthenticated', (ctx) => (ctx.session ? true : unauthenticated()));

const byRoles = new Map<string, ShieldRule>();
/** Allows callers holding any of `roles`. */
export function hasRole(...roles: Role[]): ShieldRule {
  const key = [...roles].sort().join(',');
  let r = byRoles.get(key);
  if (!r) {
    r = contextual(`hasRole(${key})`, (ctx) => {
      if (!ctx.session) return unauthenticated();
      for (const role of roles) if (ctx.session.roles.has(role)) return true;
      return forbidden(`requires one of the roles: ${roles.join(', ')}`);
    });
    byRoles.set(key, r);
  }
  return r;
}

/**
 * What `viewer` may read, which every role but `auditor` may read too (authz.md: each role may
 * do what viewer may, except the auditor, who may do nothing else than its own list).
 */
export const reader = hasRole('viewer', 'compliance', 'privacy_officer', 'sre', 'ci', 'dp_engine', 'policy_engine');
export const compliance = hasRole('compliance');

/** A type's rules: a rule per field, and '*' for the fields not named. */
export type TypeRules = Record<string, ShieldRule>;
export type RuleTree = Record<string, TypeRules>;
