// Every table of every domain, for drizzle's query builder and drizzle-kit's migration generator.
export * from '../catalog/tables.js';
export * from '../evidence/tables.js';
export * from '../attestations/tables.js';
export * from '../ledger/tables.js';
export * from '../budgets/tables.js';
export * from '../anomalies/tables.js';
export * from '../bundles/tables.js';
export * from '../scorecard/tables.js';
export * from '../evolution/tables.js';
export * from '../audit/tables.js';
