import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  // Every domain keeps its tables in its own tables.ts; drizzle-kit reads them all.
  schema: './src/*/tables.ts',
  out: './drizzle',
});
