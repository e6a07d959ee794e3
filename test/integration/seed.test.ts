import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_AUDITOR_TOKEN_COMMAND, DEMO_ENGAGEMENT, seedDemo } from '../../src/cli/seed.js';
import { systemClock } from '../../src/util/clock.js';
import { persisted } from '../helpers/audit.js';
import { ROOT } from '../helpers/cli.js';
import { startTestServer, TEST_SECRET, type TestServer } from '../helpers/server.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  expect(await seedDemo(t.server.services, systemClock, async () => true, t.db.database.db)).toBe(true);
});
afterAll(async () => {
  await t?.close();
});

describe('#seedDemo', () => {
  describe('when the demo auditor signs in with the token the banner tells it to mint', () => {
    let auditor: string;
    beforeAll(async () => {
      // The printed command, run as printed by a shell (npm run -s, so stdout is the token alone),
      // against the test server's secret.
      const command = DEMO_AUDITOR_TOKEN_COMMAND.replace('npm run token', 'npm run -s token');
      const { stdout, stderr } = await promisify(execFile)('bash', ['-c', command], {
        cwd: ROOT,
        env: { ...process.env, AUTH_JWT_SECRET: TEST_SECRET, IG_ENV_FILE: 'none' },
      });
      expect(stderr).toBe('');
      auditor = stdout.trim();
    });

    it('sees the demo engagement and its generated pack through the portal API', async () => {
      const e = await persisted<{ auditEngagements: { id: string; name: string; auditor: string }[] }>(
        t,
        'AuditorEngagements',
        {},
        auditor,
      );
      expect(e.errors).toBeUndefined();
      expect(e.data?.auditEngagements).toEqual([
        expect.objectContaining({ id: DEMO_ENGAGEMENT.id, name: DEMO_ENGAGEMENT.name, auditor: DEMO_ENGAGEMENT.auditor }),
      ]);
      const p = await persisted<{ auditPacks: { watermark: string; files: unknown[] }[] }>(
        t,
        'AuditorPacks',
        { engagementId: DEMO_ENGAGEMENT.id },
        auditor,
      );
      expect(p.errors).toBeUndefined();
      expect(p.data?.auditPacks).toHaveLength(1);
      expect(p.data?.auditPacks[0]?.watermark).toContain(`prepared for ${DEMO_ENGAGEMENT.auditor}`);
      expect(p.data?.auditPacks[0]?.files.length).toBeGreaterThan(3);
    });
  });

  it('leaves a catalog that is not empty alone', async () => {
    const before = await t.db.database.sql<{ n: number }[]>`select count(*)::int as n from ledger`;
    expect(await seedDemo(t.server.services, systemClock, async () => false, t.db.database.db)).toBe(false);
    expect(await t.db.database.sql<{ n: number }[]>`select count(*)::int as n from ledger`).toEqual(before);
  });
});
