import { existsSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { evidencePages, type EvidencePageQuery } from '../../src/evidence/repo.js';
import { evidenceDrillPlan } from '../../src/evolution/plans/index.js';
import { evidencePagesDigest } from '../../src/evolution/plans/evidence-pages.js';
import { ShadowThread } from '../../src/evolution/shadow-thread.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedEvidence, serviceId } from '../helpers/evolution.js';

let db: TestDatabase;
let thread: ShadowThread;
const servingPriority = getPriority();
const hasChrt = (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, 'chrt')));
const args: EvidencePageQuery = {
  serviceIds: Array.from({ length: 12 }, (_, i) => serviceId(i)),
  kind: null,
  first: 5,
  after: null,
  tenants: null,
};

beforeAll(async () => {
  db = await createTestDatabase();
  await seedEvidence(db.database.sql, 10, 30);
  thread = new ShadowThread({ url: db.url, applicationName: db.applicationName, poolMax: 2, restartDelayMs: 300 });
});
afterAll(async () => {
  await thread.close();
  await db.drop();
});

describe('#ShadowThread', () => {
  it("reads and hashes a built-in plan's paths in a thread at the lowest priority, with the serving thread's hash", async () => {
    const reads = thread.reads<EvidencePageQuery>('evidence-covering');
    const [primary, candidate] = await Promise.all([reads.read('PRIMARY', args, 2000), reads.read('CANDIDATE', args, 2000)]);
    const here = await evidencePagesDigest(await evidencePages(db.database.sql, args));
    expect(primary).toMatchObject({ status: 'ok', digest: here });
    expect(candidate).toMatchObject({ status: 'ok', digest: here });
    // SCHED_IDLE where util-linux's chrt is there to set it (as on Debian), nice 19 in any case.
    expect(thread.schedule).toEqual({ policy: hasChrt ? 'idle' : 'normal', nice: 19 });
    expect(getPriority()).toBe(servingPriority);
  });

  it("confirms the drill's divergence in one snapshot, with its exemplar", async () => {
    const confirmed = await thread.reads<EvidencePageQuery>(evidenceDrillPlan.name).confirm(args, 2000);
    expect(confirmed.status).toBe('ok');
    if (confirmed.status !== 'ok') return;
    expect(confirmed.primaryHash).not.toBe(confirmed.candidateHash);
    expect(confirmed.exemplar).toMatchObject({ differingServices: 1, services: [{ serviceId: serviceId(0), primaryRows: 6, candidateRows: 5 }] });
  });

  it('answers a plan it was not built with as lost, not as a failure of the candidate', async () => {
    expect(await thread.reads<EvidencePageQuery>('registered-at-run-time').read('CANDIDATE', args, 2000)).toEqual({
      status: 'lost',
      reason: 'unknown_plan',
    });
  });

  it('drops its jobs while it is down after an exit, then starts again', async () => {
    const reads = thread.reads<EvidencePageQuery>('evidence-covering');
    const worker = (thread as unknown as { worker: Worker | null }).worker;
    expect(worker).not.toBeNull();
    await worker?.terminate();
    await vi.waitFor(() => expect(thread.running).toBe(false));
    expect(await reads.read('CANDIDATE', args, 2000)).toEqual({ status: 'lost', reason: 'shadow_thread_down' });
    await vi.waitFor(async () => expect((await reads.read('CANDIDATE', args, 2000)).status).toBe('ok'), { timeout: 10_000, interval: 100 });
  });
});
