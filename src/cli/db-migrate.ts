import { cliConfig } from '../config.js';
import { openRuntime } from '../runtime.js';

// `npm run db:migrate`: applies migrations to DATABASE_URL (or the embedded PostgreSQL in
// DATA_DIR) and exits.
const c = cliConfig();
const runtime = await openRuntime(c, (line) => process.stderr.write(`[postgres] ${line}\n`));
process.stdout.write(`migrations applied to ${c.DATABASE_URL ? 'DATABASE_URL' : `the embedded PostgreSQL in ${c.DATA_DIR}`}\n`);
await runtime.stop();
