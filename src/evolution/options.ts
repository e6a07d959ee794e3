import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { evolutionRepo } from './repo.js';

/** The migrations that route a resolver, as the router reads them on each refresh. */
export type RouteSource = (db: Db) => ReturnType<typeof evolutionRepo.routed>;

/** How a replica runs its dual reads (see ReadPathRouter). */
export interface EvolutionOptions {
  /** The main pool's application_name; the shadow lane's adds "-shadow". */
  applicationName: string;
  refreshMs: number;
  poolMax: number;
  maxInFlight: number;
  /** Where routes come from (default: data_migrations); the bench routes one process on its own. */
  routes?: RouteSource;
}

export function evolutionOptions(config: Config, applicationName: string, routes?: RouteSource): EvolutionOptions {
  return {
    applicationName,
    ...(routes ? { routes } : {}),
    refreshMs: config.EVOLUTION_REFRESH_MS,
    poolMax: config.EVOLUTION_SHADOW_POOL_MAX,
    // At least one lane connection stays free of comparisons for the refresh and the recorder,
    // so a flip is read on time even while comparisons run to their timeout.
    maxInFlight: Math.min(config.EVOLUTION_SHADOW_MAX_IN_FLIGHT, config.EVOLUTION_SHADOW_POOL_MAX - 1),
  };
}
