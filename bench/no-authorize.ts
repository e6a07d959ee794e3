// The bench's --no-auth server (bench/serve-candidate.ts) passes this as ServerDeps.authorize:
// the rule tree is left unapplied, so the difference to the default server is exactly the
// authorization layer. Tokens are still verified.
import type { Authorize } from '../src/schema.js';

export const noAuthorization: Authorize = () => ({ unruled: [] });
