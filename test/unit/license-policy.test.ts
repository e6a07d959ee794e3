import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectSbom, licenseProof, loadAllowList } from '../../src/audit/collectors.js';
import { ROOT } from '../helpers/cli.js';

describe('#license allow-list', () => {
  describe("when the project's own production tree is checked (what demo:audit and ig-evidence collect licenses record)", () => {
    it('passes, each package outside the allowed licences carrying a written reason', async () => {
      const proof = licenseProof(await collectSbom(ROOT, new Date()), await loadAllowList(join(ROOT, 'policy', 'license-allowlist.json')));
      expect(proof.violations).toEqual([]);
      expect(proof.passed).toBe(true);
      const federation = proof.exceptionsApplied.find((e) => e.name === '@apollo/federation-internals');
      expect(federation).toMatchObject({
        license: 'Elastic-2.0',
        reason: expect.stringContaining('runtime dependency of @apollo/subgraph'),
      });
    });
  });
});
