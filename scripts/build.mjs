#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm ci`/`npm install` run it): src/**/*.ts to dist/ with
// esbuild, one file each, types stripped (`npm run typecheck` checks them). dist/ mirrors src/ at
// the same depth, so every path a module resolves from its own location (../../drizzle,
// ../schema) means the same file from either. bin/load.mjs runs dist/ when it is newer than src/.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = dirname(import.meta.dirname);
const src = join(root, 'src');
const dist = join(root, 'dist');
// Built aside and swapped in, so a CLI started meanwhile (tests run them) never reads half a build.
const next = `${dist}.${process.pid}`;
const files = readdirSync(src, { recursive: true, encoding: 'utf8' });
await build({
  entryPoints: files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => join(src, f)),
  outdir: next,
  outbase: src,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: 'linked',
  logLevel: 'warning',
});
// JSON imported with `with { type: 'json' }` stays an import of a file beside the module.
for (const f of files.filter((f) => f.endsWith('.json'))) {
  mkdirSync(dirname(join(next, f)), { recursive: true });
  copyFileSync(join(src, f), join(next, f));
}
// The audit pack verifier: one bundled script with no dependencies, shipped inside every pack
// (read from beside its module) and as the npm package @intelgraph/evidence-verify.
const { bundleVerifier } = await import(pathToFileURL(join(next, 'audit/verifier/bundle.js')).href);
await bundleVerifier([join(next, 'audit/verifier/verify.mjs'), join(root, 'packages/evidence-verify/verify.mjs')]);
writeFileSync(join(next, '.built'), `${new Date().toISOString()}\n`);
rmSync(`${next}.old`, { recursive: true, force: true });
try {
  renameSync(dist, `${next}.old`);
} catch {
  // No earlier build.
}
renameSync(next, dist);
rmSync(`${next}.old`, { recursive: true, force: true });
