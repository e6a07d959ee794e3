// The entry esbuild bundles into verify.mjs (see ./bundle.ts): run the verifier as a script.
import { runAsScript } from './cli.js';

runAsScript(import.meta.url);
