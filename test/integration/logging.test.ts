import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await t?.close();
});

describe('#server logs', () => {
  describe('when the server logs at info', () => {
    it('writes its JSON lines to stderr, leaving stdout to the start banner', async () => {
      const out = vi.spyOn(process.stdout, 'write');
      const err = vi.spyOn(process.stderr, 'write');
      t = await startTestServer({ env: { LOG_LEVEL: 'info' } });
      const lines = (spy: typeof out) => spy.mock.calls.map(([chunk]) => String(chunk));
      expect(lines(err).some((l) => l.includes('"msg":"Server listening at'))).toBe(true);
      expect(lines(out).filter((l) => l.includes('"level":'))).toEqual([]);
    });
  });
});
