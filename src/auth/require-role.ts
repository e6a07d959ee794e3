import { forbidden, unauthenticated } from '../errors.js';
import type { Role, Session } from './session.js';

/**
 * The service-level role assertion: every state-changing service method calls it first, so a
 * write is refused even when reached without the shield rule tree (a new route, a CLI, a
 * forgotten rule). The rule tree stays the first check; this is the one that guards the data.
 */
export function requireRole(session: Session | null | undefined, ...roles: readonly Role[]): asserts session is Session {
  if (!session) throw unauthenticated();
  if (!roles.some((r) => session.roles.has(r))) throw forbidden(`requires one of the roles: ${roles.join(', ')}`);
}
