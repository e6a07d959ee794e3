import type { Config } from '../config.js';

/** How a replica runs its dual reads (see ReadPathRouter). */
export interface EvolutionOptions {
  /** The main pool's application_name; the shadow lane's adds "-shadow". */
  applicationName: string;
  refreshMs: number;
  poolMax: number;
  maxInFlight: number;
}

export function evolutionOptions(config: Config, applicationName: string): EvolutionOptions {
  return {
    applicationName,
    refreshMs: config.EVOLUTION_REFRESH_MS,
    poolMax: config.EVOLUTION_SHADOW_POOL_MAX,
    // At least one lane connection stays free of comparisons for the refresh and the recorder,
    // so a flip is read on time even while comparisons run to their timeout.
    maxInFlight: Math.min(config.EVOLUTION_SHADOW_MAX_IN_FLIGHT, config.EVOLUTION_SHADOW_POOL_MAX - 1),
  };
}
