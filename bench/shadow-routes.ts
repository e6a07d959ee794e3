// The bench's shadow server (bench/serve-candidate.ts --shadow) passes this as ServerDeps.routes:
// the read-path router's refresh routes the bench's migration (bench/db.ts) as SHADOWING at
// SHADOW_SAMPLE_RATE. Replicas take their phase from the database, all alike; this puts one
// process into shadowing while the servers it is compared with, on the same database, keep
// shadowing off. The bench also switches it off and on in this process (POST /bench/shadow), so
// the budget compares one process, heap and JIT state with itself.
import type { RouteSource } from '../src/evolution/options.js';
import { evidenceCoveringPlan } from '../src/evolution/plans/index.js';
import { evolutionRepo } from '../src/evolution/repo.js';
import { SHADOW_SAMPLE_RATE } from './common.js';

export type ShadowMode = 'off' | 'on';

export function shadowRoutes(migrationId: string): { routes: RouteSource; setMode(mode: ShadowMode): void } {
  let mode: ShadowMode = 'on';
  return {
    setMode: (m) => {
      mode = m;
    },
    async routes(db) {
      // The real query still runs, so the refresh costs what it costs on the other servers.
      await evolutionRepo.routed(db);
      if (mode === 'off') return [];
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
}
