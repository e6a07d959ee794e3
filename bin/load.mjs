#!/usr/bin/env node
// Runs a module of src/ (e.g. 'cli/ig-gate') as compiled JavaScript from dist/ (`npm run build`,
// which `npm install` runs), so a CLI starts in well under a second. When dist/ is missing or
// older than a file of src/, it says so and runs the TypeScript through tsx instead: slower, but
// never stale. `node bin/load.mjs <module> [args…]` runs one from the command line.
import { readdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = `${dirname(import.meta.dirname)}/`;

function staleness() {
  let built;
  try {
    built = statSync(`${root}dist/.built`).mtimeMs;
  } catch {
    return 'no build in dist/';
  }
  for (const f of readdirSync(`${root}src`, { recursive: true, encoding: 'utf8' })) {
    if (statSync(`${root}src/${f}`).mtimeMs > built) return `src/${f} is newer than dist/`;
  }
  return undefined;
}

export async function load(module) {
  const stale = staleness();
  if (!stale) return import(pathToFileURL(`${root}dist/${module}.js`).href);
  process.stderr.write(`(${stale}: running the TypeScript sources, which starts slowly; npm run build)\n`);
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(`${root}src/${module}.ts`).href);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const module = process.argv[2];
  if (!module) {
    process.stderr.write('usage: node bin/load.mjs <module of src/, e.g. cli/audit-demo> [args…]\n');
    process.exit(2);
  }
  // What the module sees is `node <module> [args…]`, as when it is run directly.
  process.argv.splice(1, 1);
  await load(module);
}
