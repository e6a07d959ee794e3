import type { Session } from '../auth/session.js';
import type { Services } from '../services.js';
import type { Clock } from '../util/clock.js';

export const DEMO_TENANTS = ['acme', 'globex', 'initech'] as const;

const seeder: Session = { sub: 'seed', roles: new Set(['compliance']), tenants: '*', engagements: new Set() };

/**
 * Demo data for `npm start`: a few services and teams, and evidence across kinds and tenants.
 * Runs only on an empty catalog, so restarting keeps what users created.
 */
export async function seedDemo(services: Services, clock: Clock, isEmpty: () => Promise<boolean>): Promise<boolean> {
  if (!(await isEmpty())) return false;
  const day = 86_400_000;
  const ago = (days: number) => new Date(clock.now().getTime() - days * day);
  const catalog = [
    { id: 'gateway', name: 'API Gateway', team: 'platform' },
    { id: 'graph-core', name: 'Graph Core', team: 'platform' },
    { id: 'ingest', name: 'Ingest Pipeline', team: 'data' },
  ];
  for (const s of catalog) await services.catalog.upsert(seeder, s);
  const items = [
    { kind: 'SBOM', serviceId: 'gateway', tenantId: null, content: { format: 'CycloneDX', specVersion: '1.6', components: 212 }, age: 1 },
    { kind: 'PROVENANCE', serviceId: 'gateway', tenantId: null, content: { predicateType: 'https://slsa.dev/provenance/v1', builder: 'github-actions' }, age: 1 },
    { kind: 'RESIDENCY_PROOF', serviceId: 'gateway', tenantId: 'acme', content: { tenant: 'acme', region: 'eu-west-1' }, age: 3 },
    { kind: 'RESIDENCY_PROOF', serviceId: 'graph-core', tenantId: 'globex', content: { tenant: 'globex', region: 'us-east-1' }, age: 40 },
    { kind: 'DR_DRILL', serviceId: 'graph-core', tenantId: null, content: { scenario: 'region failover', rtoMinutes: 42 }, age: 20 },
    { kind: 'ACCESS_REVIEW', serviceId: 'ingest', tenantId: null, content: { reviewed: 48, revoked: 3 }, age: 10 },
    { kind: 'CMK_ROTATION', serviceId: 'ingest', tenantId: 'initech', content: { keyId: 'kms-initech-1', fromVersion: 3, toVersion: 4 }, age: 5 },
  ];
  for (const e of items) {
    await services.evidence.record(seeder, {
      kind: e.kind,
      serviceId: e.serviceId,
      tenantId: e.tenantId,
      source: 'demo-seed',
      collectedAt: ago(e.age),
      content: e.content,
    });
  }
  return true;
}
