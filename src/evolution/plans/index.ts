import { EvolutionError } from '../errors.js';
import type { MigrationPlan, ResolverName } from '../types.js';
import { evidenceCoveringPlan } from './evidence-covering.js';
import { evidenceDrillPlan } from './evidence-drill.js';

/**
 * The migration plans this build knows, by name. Plans are code: a replica serves a migration
 * only through a plan it was built with (a name it does not know leaves its hot path on the
 * baseline read). `registerPlan` is for tests and embedders that bring their own.
 */
const plans = new Map<string, MigrationPlan>([
  [evidenceCoveringPlan.name, evidenceCoveringPlan],
  [evidenceDrillPlan.name, evidenceDrillPlan],
]);

export function registerPlan<K extends ResolverName>(plan: MigrationPlan<K>): void {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(plan.name))
    throw new EvolutionError('BAD_USER_INPUT', 'BAD_PLAN', `plan name ${plan.name} must be lowercase letters, digits and dashes`);
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(plan.index.name))
    throw new EvolutionError('BAD_USER_INPUT', 'BAD_PLAN', `index name ${plan.index.name} is not a plain identifier`);
  // Stored type-erased by name; the router hands it back to the reader of `plan.resolver`.
  plans.set(plan.name, plan as unknown as MigrationPlan);
}

export function findPlan(name: string): MigrationPlan | undefined {
  return plans.get(name);
}

export function getPlan(name: string): MigrationPlan {
  const plan = plans.get(name);
  if (!plan) throw new EvolutionError('NOT_FOUND', 'UNKNOWN_PLAN', `no migration plan ${name} (known: ${[...plans.keys()].join(', ')})`);
  return plan;
}

export function allPlans(): MigrationPlan[] {
  return [...plans.values()];
}

export { evidenceCoveringPlan, evidenceDrillPlan };
