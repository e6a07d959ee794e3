// Stand-in for src/evolution/repo.ts in the bench's shadow server (bench/serve-candidate.ts
// --shadow, see bench/swap-hooks.mjs): everything as in the real module, except that the read-path
// router's refresh routes the bench's migration (bench/db.ts) as SHADOWING at SHADOW_SAMPLE_RATE.
// Replicas take their phase from the database, all alike; this puts one process into shadowing
// while the servers it is compared with, on the same database, keep shadowing off. The bench
// also switches it off and on in this process (POST /bench/shadow, bench/serve-candidate.ts), so
// the budget compares one process, heap and JIT state with itself.
import { evidenceCoveringPlan } from '../src/evolution/plans/index.js';
import { evolutionRepo as real } from '../src/evolution/repo.js';
import { SHADOW_SAMPLE_RATE } from './common.js';

export * from '../src/evolution/repo.js';

export type ShadowMode = 'off' | 'on';
const bench = globalThis as { __benchShadow?: boolean; __benchShadowMode?: ShadowMode };
bench.__benchShadow = true;
bench.__benchShadowMode = 'on';

const migrationId = process.env.BENCH_SHADOW_MIGRATION_ID;
if (!migrationId) throw new Error('BENCH_SHADOW_MIGRATION_ID is required with --shadow');

export const evolutionRepo: typeof real = {
  ...real,
  async routed(db) {
    // The real query still runs, so the refresh costs what it costs on the other servers.
    await real.routed(db);
    if (bench.__benchShadowMode === 'off') return [];
    return [
      {
        id: migrationId,
        plan: evidenceCoveringPlan.name,
        resolver: evidenceCoveringPlan.resolver,
        phase: 'SHADOWING',
        readPath: 'PRIMARY',
        shadowSampleRate: SHADOW_SAMPLE_RATE,
      },
    ];
  },
};
