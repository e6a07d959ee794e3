#!/usr/bin/env node
// The bench's servers run as `npm start` runs the product: compiled JavaScript, without tsx. Under
// tsx every CommonJS `require` goes through its resolver (Apollo hashes each query with a
// `require('crypto')` per request), which a deployment never pays. Each entry of bench/ is
// bundled alone into bench/.compiled/ (beside node_modules, which resolves its packages); what it
// imports from src/ is left to the build of src/ in dist/ (`npm run build`), so the product's
// modules find their files (schema/, drizzle/, …) as they do in production.
//
//   node bench/compile.mjs bench/serve-candidate.ts …   → bench/.compiled/serve-candidate.mjs …
import { build } from 'esbuild';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = dirname(import.meta.dirname);
const src = join(root, 'src');
const entries = process.argv.slice(2);
if (!entries.length) {
  process.stderr.write('usage: node bench/compile.mjs <bench entry .ts>…\n');
  process.exit(2);
}

/** Imports of src/ (written `../src/x.js`) become imports of dist/x.js. */
const srcFromDist = {
  name: 'src-from-dist',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = resolve(args.resolveDir, args.path);
      if (!target.startsWith(`${src}/`)) return undefined;
      return { path: pathToFileURL(join(root, 'dist', relative(src, target))).href, external: true };
    });
  },
};

await build({
  entryPoints: entries.map((e) => ({ in: resolve(e), out: basename(e, '.ts') })),
  outdir: join(root, 'bench', '.compiled'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  packages: 'external',
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  logLevel: 'warning',
  plugins: [srcFromDist],
});
