import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Node resolves `graphql` to its CommonJS build (no "exports" map), and so do the CJS
    // packages (@apollo/subgraph, graphql-shield). Vite would pick the ESM build for our own
    // imports, and two copies of graphql cannot share a schema.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // CLIs run by tests must not pick up the settings a developer's `npm start` left in .ig-env.
    env: { IG_ENV_FILE: 'none' },
    // Each file gets its own database; files run in parallel on the machine's cores.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
