import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role, type Session } from '../../src/auth/session.js';
import { buildSchema } from '../../src/schema.js';
import type { Services } from '../../src/services.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Every state-changing service method asserts the caller's role itself: called directly,
// below the rule tree, with every role but the right ones, it refuses and changes nothing.
let t: TestServer;

interface Case {
  /** The roles the shield rule tree allows for the mutation. */
  roles: Role[];
  call: (s: Services, session: Session) => Promise<unknown>;
}

const later = new Date(Date.now() + 86_400_000);
const id = randomUUID();

/** One case per Mutation field: a new mutation without a case fails the test below. */
const cases: Record<string, Case> = {
  recordPolicyDecisions: {
    roles: ['policy_engine'],
    call: (s, u) => s.anomalies.record(u, [{ decisionId: 'd-1', ruleId: 'r', actor: 'a', resource: 'x', allowed: false, at: new Date() }]),
  },
  acknowledgeAnomaly: { roles: ['compliance', 'sre'], call: (s, u) => s.anomalies.acknowledge(u, id) },
  resolveAnomaly: { roles: ['compliance', 'sre'], call: (s, u) => s.anomalies.resolve(u, id, true) },
  createSuppression: {
    roles: ['compliance', 'sre'],
    call: (s, u) => s.anomalies.createSuppression(u, { ruleId: 'r', reason: 'noise', expiresAt: later }),
  },
  registerRelease: {
    roles: ['ci'],
    call: (s, u) =>
      s.attestations.register(u, {
        id: 'rel-x',
        serviceId: 'svc-x',
        version: '1.0.0',
        subjects: [{ name: 'img', digest: `sha256:${'a'.repeat(64)}` }],
      }),
  },
  submitAttestation: { roles: ['ci'], call: (s, u) => s.attestations.submit(u, 'rel-x', {}) },
  createAuditEngagement: {
    roles: ['compliance'],
    call: (s, u) =>
      s.audit.createEngagement(u, { name: 'FY', auditor: 'alice@audit', scope: ['acme'], startsAt: new Date(), endsAt: later }),
  },
  generateAuditPack: { roles: ['compliance'], call: (s, u) => s.audit.generatePack(u, id, 'v1') },
  issuePackLink: { roles: ['compliance', 'auditor'], call: (s, u) => s.audit.issueLink(u, id, 3600) },
  submitAuditRequest: { roles: ['auditor'], call: (s, u) => s.audit.submitRequest(u, id, 'SOC2 CC6.1') },
  fulfillAuditRequest: { roles: ['compliance'], call: (s, u) => s.audit.fulfillRequest(u, id, []) },
  recordCmkRotation: {
    roles: ['compliance', 'ci'],
    call: (s, u) =>
      s.audit.recordCmkRotation(u, {
        keyId: 'k',
        tenantId: 'acme',
        provider: 'aws-kms',
        oldVersion: '1',
        newVersion: '2',
        rotatedAt: new Date(),
        nextDueAt: later,
      }),
  },
  setBudgetPolicy: {
    roles: ['privacy_officer'],
    call: (s, u) => s.budgets.setPolicy(u, { tenantId: 'acme', epsilonLimit: 3, window: 'DAY' }),
  },
  spendPrivacyBudget: {
    roles: ['dp_engine'],
    call: (s, u) =>
      s.budgets.spend(u, { tenantId: 'acme', epsilon: 0.5, mechanism: 'laplace', queryRef: 'q', idempotencyKey: randomUUID() }),
  },
  requestBudgetOverride: {
    roles: ['compliance', 'privacy_officer'],
    call: (s, u) =>
      s.budgets.requestOverride(u, {
        tenantId: 'acme',
        epsilon: 1,
        warrant: { reference: 'W', authority: 'court', justification: 'case', expiresAt: later },
      }),
  },
  approveBudgetOverride: { roles: ['privacy_officer'], call: (s, u) => s.budgets.approve(u, id) },
  rejectBudgetOverride: { roles: ['privacy_officer'], call: (s, u) => s.budgets.reject(u, id, 'no') },
  importSiteLedger: { roles: ['compliance'], call: (s, u) => s.bundles.importSiteLedger(u, 'site-1', []) },
  upsertService: { roles: ['compliance', 'ci'], call: (s, u) => s.catalog.upsert(u, { id: 'svc-x', name: 'X', team: 'core' }) },
  recordEvidence: {
    roles: ['compliance', 'ci'],
    call: (s, u) =>
      s.evidence.record(u, {
        kind: 'sbom',
        serviceId: 'svc-x',
        source: 'ci',
        collectedAt: new Date(),
        content: { bomFormat: 'CycloneDX' },
      }),
  },
  setReadPath: { roles: ['sre'], call: (s, u) => s.evolution.setReadPath(u, id, 'PRIMARY') },
  promoteRelease: { roles: ['ci'], call: (s, u) => s.scorecard.promote(u, 'rel-x') },
};

const sessionOf = (role: Role): Session => ({ sub: `${role}@test`, roles: new Set([role]), tenants: '*', engagements: new Set([id]) });

/** The call as a promise, whether the method throws synchronously or rejects. */
const attempt = async (c: Case, session: Session): Promise<unknown> => c.call(t.server.services, session);

/** Row counts of every table and the ledger head, in one statement. */
async function snapshot(): Promise<unknown> {
  const sql = t.db.database.sql;
  const tables = await sql<{ name: string }[]>`select tablename as name from pg_tables where schemaname = 'public' order by tablename`;
  const counts = await sql.unsafe(tables.map((r) => `select '${r.name}' as t, count(*)::int as n from "${r.name}"`).join(' union all '));
  const [head] = await sql`select seq::int as seq, hash from ledger_head`;
  return { counts, head };
}

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

describe('#requireRole in services', () => {
  it('has a case for every Mutation field', () => {
    const fields = Object.keys(buildSchema().schema.getMutationType()?.getFields() ?? {}).sort();
    expect(fields.length).toBeGreaterThan(0);
    expect(Object.keys(cases).sort()).toEqual(fields);
  });

  describe.each(Object.entries(cases))('%s', (_field, c) => {
    it('refuses every other role with FORBIDDEN and changes nothing', async () => {
      const before = await snapshot();
      const wrong = ROLES.filter((r) => !c.roles.includes(r));
      expect(wrong.length).toBeGreaterThan(0);
      for (const role of wrong) {
        await expect(attempt(c, sessionOf(role)), role).rejects.toMatchObject({ code: 'FORBIDDEN' });
      }
      expect(await snapshot()).toEqual(before);
    });

    it('refuses a call without a session with UNAUTHENTICATED', async () => {
      await expect(attempt(c, null as unknown as Session)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    });
  });
});
