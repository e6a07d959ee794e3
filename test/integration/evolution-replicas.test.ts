import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect, type Database } from '../../src/db/client.js';
import { evolutionRepo } from '../../src/evolution/repo.js';
import { evidenceDrillPlan } from '../../src/evolution/plans/index.js';
import { createServer, type ComplianceServer } from '../../src/server.js';
import { runBin } from '../helpers/cli.js';
import { PAGE_QUERY, seedEvidence, serviceId, sre, TEST_BUILD } from '../helpers/evolution.js';
import { as, startTestServer, type Caller, type GraphQLResult, type TestServer } from '../helpers/server.js';

// Two replicas on one database: A (the test server) and B (a second createServer with its own
// pool). A flip made through one must reach the other through the database alone.
let a: TestServer;
let bDatabase: Database;
let b: ComplianceServer;
let bUrl: string;
const actor = 'tester@replicas';
const VARS = { reps: [{ __typename: 'Service', id: serviceId(0) }], first: 20 };

async function askB(
  caller: Caller = as.compliance,
): Promise<GraphQLResult<{ _entities: { evidence: { pageInfo: { hasNextPage: boolean } } }[] }>> {
  const res = await fetch(bUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await a.token(caller)}` },
    body: JSON.stringify({ query: PAGE_QUERY, variables: VARS }),
  });
  return (await res.json()) as GraphQLResult<{ _entities: { evidence: { pageInfo: { hasNextPage: boolean } } }[] }>;
}
const askA = () => a.gql<{ _entities: { evidence: { pageInfo: { hasNextPage: boolean } } }[] }>(PAGE_QUERY, VARS);
const hasNext = (r: GraphQLResult<{ _entities: { evidence: { pageInfo: { hasNextPage: boolean } } }[] }>) =>
  r.data?._entities[0]?.evidence.pageInfo.hasNextPage;

/**
 * A migration of the drill plan forced into CUT_OVER (a fixture: the service never cuts a drill
 * over). Its candidate drops the extra row a page fetches to know whether a next page exists,
 * so `hasNextPage` says which read path a replica served: true from the primary, false from it.
 */
async function cutOverDrill(): Promise<string> {
  const evo = a.server.services.migrations;
  const { migration } = await evo.start(evidenceDrillPlan.name, { actor, sampleRate: 0, drill: true });
  await evo.build(migration.id, actor, TEST_BUILD);
  await evo.startShadow(migration.id, actor);
  await a.db.database
    .sql`update data_migrations set phase = 'CUT_OVER', read_path = 'CANDIDATE', verdict = 'PASS', stage_started_at = now() where id = ${migration.id}`;
  return migration.id;
}

beforeAll(async () => {
  a = await startTestServer({ env: { EVOLUTION_REFRESH_MS: '100' } });
  await seedEvidence(a.db.database.sql, 20, 100);
  bDatabase = connect(a.db.url, { max: 5, applicationName: `${a.db.applicationName}-b` });
  b = await createServer({ config: a.config, database: bDatabase, applicationName: `${a.db.applicationName}-b` });
  bUrl = `${await b.listen()}/graphql`;
});
afterAll(async () => {
  await b.close();
  await bDatabase.close();
  await a.close();
});

describe('#rollback switch across replicas', () => {
  it('is served by both replicas once cut over, and setReadPath on A takes B back to the primary', async () => {
    const first = await askB();
    expect(first.errors).toBeUndefined();
    expect(hasNext(first)).toBe(true);
    const id = await cutOverDrill();
    // B learns of the cutover from the database alone (its refresh), as any replica would.
    await vi.waitFor(async () => expect(hasNext(await askB())).toBe(false), { timeout: 10_000, interval: 50 });
    expect(b.services.readPaths.current('Service.evidence')).toMatchObject({ migrationId: id, readPath: 'CANDIDATE' });

    const flip = await a.gql<{ setReadPath: { phase: string; readPath: string } }>(
      `mutation($id: ID!) { setReadPath(migrationId: $id, path: PRIMARY) { phase readPath } }`,
      { id },
      sre,
    );
    expect(flip.data?.setReadPath).toEqual({ phase: 'ROLLED_BACK', readPath: 'PRIMARY' });
    // A flipped itself at once; B follows within its refresh interval.
    expect(hasNext(await askA())).toBe(true);
    await vi.waitFor(async () => expect(hasNext(await askB())).toBe(true), { timeout: 10_000, interval: 50 });
    expect(b.services.readPaths.current('Service.evidence')).toBeUndefined();
    const metrics = await (await fetch(b.metricsUrl() ?? '')).text();
    expect(metrics).not.toMatch(/dual_path_route_info\{[^}]*read_path="CANDIDATE"/);
  });

  it('is flipped by `ig-evolve rollback PLAN` from a third process, for both replicas', async () => {
    const id = await cutOverDrill();
    await vi.waitFor(async () => expect([hasNext(await askA()), hasNext(await askB())]).toEqual([false, false]), {
      timeout: 10_000,
      interval: 50,
    });

    const r = await runBin('ig-evolve', [
      'rollback',
      evidenceDrillPlan.name,
      '--database-url',
      a.db.url,
      '--actor',
      'oncall@cli',
      '--reason',
      'game day',
      '--json',
    ]);
    expect(r.stderr).toMatch(/ROLLED_BACK; read path PRIMARY/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id, phase: 'ROLLED_BACK', readPath: 'PRIMARY', failureReason: 'game day' });
    await vi.waitFor(async () => expect([hasNext(await askA()), hasNext(await askB())]).toEqual([true, true]), {
      timeout: 10_000,
      interval: 50,
    });
    const [entry] = await a.db.database.sql<{ actor: string; payload: { via: string; reason: string } }[]>`
      select actor, payload from ledger where kind = 'evolution.read-path' and payload->>'migrationId' = ${id}`;
    expect(entry).toMatchObject({ actor: 'oncall@cli', payload: { via: 'ig-evolve rollback', reason: 'game day' } });
  });

  it('sees a flip in a refresh asked for after it, even while an earlier refresh is still loading', async () => {
    const id = await cutOverDrill();
    const router = b.services.readPaths;
    await router.refresh();
    expect(router.current('Service.evidence')).toMatchObject({ migrationId: id, readPath: 'CANDIDATE' });
    // An earlier refresh (a periodic one, say) has read the routes before the flip and is still
    // loading when the flip's own refresh is asked for.
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    let written = false;
    const routed = evolutionRepo.routed;
    // Every load that reads before the flip is written answers only once it is released.
    const spy = vi.spyOn(evolutionRepo, 'routed').mockImplementation(async (db) => {
      const read = await routed(db);
      if (!written) await held;
      return read;
    });
    try {
      const earlier = router.refresh();
      await vi.waitFor(() => expect(spy).toHaveBeenCalled());
      await a.db.database.sql`update data_migrations set phase = 'ROLLED_BACK', read_path = 'PRIMARY' where id = ${id}`;
      written = true;
      const after = router.refresh();
      release();
      await Promise.all([earlier, after]);
      expect(router.current('Service.evidence')).toBeUndefined();
    } finally {
      spy.mockRestore();
    }
  });
});
