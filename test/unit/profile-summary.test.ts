import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarize } from '../../bench/profile-summary.js';

// A V8 CPU profile in miniature: which function each sample hit and the µs since the one before.
function profileFile(samples: [number, number][]): string {
  const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
  const profile = {
    startTime: 1_000_000,
    endTime: 2_000_000,
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 4] },
      { id: 2, callFrame: frame('dispatch', '') },
      { id: 3, callFrame: frame('send', 'file:///x/node_modules/ws/lib/sender.js') },
      { id: 4, callFrame: frame('(idle)', '') },
    ],
    samples: samples.map(([id]) => id),
    timeDeltas: samples.map(([, delta]) => delta),
  };
  const file = join(mkdtempSync(join(tmpdir(), 'profile-summary-')), 'p.cpuprofile');
  writeFileSync(file, JSON.stringify(profile));
  return file;
}

describe('bench profile summary', () => {
  it('does not charge the time before the first sample to the function it hit', () => {
    // The first delta is the profiler's start-up (what made the inspector's dispatch 62% before).
    const s = summarize(
      profileFile([
        [2, 180_000],
        [3, 200],
        [3, 200],
        [4, 5_000],
      ]),
    );
    expect(s.busyUs).toBe(400);
    expect(s.byPackage).toEqual([['ws', 400]]);
  });

  it('keeps only the samples inside the window given on the profile clock', () => {
    // Samples at 1_000_100, 1_000_300, 1_000_600, 1_001_000 µs.
    const file = profileFile([
      [2, 100],
      [3, 200],
      [2, 300],
      [3, 400],
    ]);
    expect(summarize(file, 25, { fromUs: 1_000_200, toUs: 1_000_700 }).byFunction).toEqual([
      ['dispatch', 300],
      ['send node_modules/ws/lib/sender.js:1', 200],
    ]);
  });
});
