// Entry of the shadow thread (src/evolution/shadow-thread.ts). The sources are TypeScript run by
// tsx, whose loader a worker thread does not inherit from the main thread on Node 20 (the hooks of
// --import stay on the thread that registered them), so the thread registers it itself.
import { register } from 'tsx/esm/api';

register();
await import('./shadow-worker.ts');
