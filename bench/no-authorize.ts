// Stand-in for src/auth/authorize.ts in the bench's --no-auth server (see bench/swap-hooks.mjs):
// everything as in the real module except applyAuthorization, which leaves the schema untouched.
import type { GraphQLSchema } from 'graphql';
import type { AuthorizationReport } from '../src/auth/authorize.js';

export * from '../src/auth/authorize.js';

(globalThis as { __benchNoAuth?: boolean }).__benchNoAuth = true;

export function applyAuthorization(_schema: GraphQLSchema, _tree: unknown): AuthorizationReport {
  return { unruled: [] };
}
