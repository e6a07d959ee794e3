import type { Sql } from 'postgres';
import { describe, expect, it, vi } from 'vitest';
import { dualRead, type DualReadOptions, type DualReadRecord } from '../../src/evolution/dual-read.js';
import { ComparisonRecorder } from '../../src/evolution/recorder.js';
import { localShadow, ShadowSlots, type ReadOnlyRunner, type ShadowReads } from '../../src/evolution/shadow.js';
import type { NewComparison } from '../../src/evolution/tables.js';
import { digestJson } from '../../src/util/canonical.js';

/** Stands for a postgres.js client: the reads under test never touch it. */
const MAIN = { name: 'main' } as unknown as Sql;
const LANE_TX = { name: 'lane' } as unknown as Sql;

/** The shadow pool's read-only transactions, as localShadow sees them. */
class FakeRunner implements ReadOnlyRunner {
  readonly calls: { snapshot: boolean; timeoutMs: number }[] = [];
  readOnly<T>(fn: (sql: Sql) => Promise<T>, opts: { timeoutMs: number; snapshot?: boolean }): Promise<T> {
    this.calls.push({ snapshot: opts.snapshot === true, timeoutMs: opts.timeoutMs });
    return fn(LANE_TX);
  }
}

function deferred<T>() {
  let resolve: (v: T) => void = () => undefined;
  let reject: (e: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

type Answer = { rows: string[] };

type Setup = Partial<DualReadOptions<string, Answer>> & { describe?: (p: Answer, c: Answer) => Record<string, unknown> };

/** dualRead with an in-process shadow (localShadow) over a fake pool, as the router wires it. */
function setup(over: Setup = {}) {
  const records: DualReadRecord[] = [];
  const runner = new FakeRunner();
  const slots = over.slots ?? new ShadowSlots(2);
  const reads = {
    primary: over.primary ?? (async () => ({ rows: ['a', 'b'] })),
    candidate: over.candidate ?? (async () => ({ rows: ['a', 'b'] })),
    digest: over.digest ?? ((a: Answer) => digestJson(a)),
  };
  const shadow: ShadowReads<string> =
    over.shadow ??
    localShadow(runner, {
      ...reads,
      describeDivergence: over.describe ?? ((p, c) => ({ missing: p.rows.filter((x) => !c.rows.includes(x)) })),
    });
  const opts: DualReadOptions<string, Answer> = {
    args: 'svc-1',
    readPath: 'PRIMARY',
    sampleRate: 1,
    timeoutMs: 1000,
    sql: MAIN,
    record: (r) => records.push(r),
    argsDigest: (a) => digestJson(a),
    ...over,
    ...reads,
    shadow,
    slots,
  };
  return { opts, records, runner, slots };
}

describe('#dualRead', () => {
  describe('when the call is sampled', () => {
    it('hands back the served answer before the shadow read starts', async () => {
      const events: string[] = [];
      const { opts, records } = setup({
        primary: async (sql) => {
          events.push(`primary on ${(sql as unknown as { name: string }).name}`);
          return { rows: ['a'] };
        },
        candidate: async (sql) => {
          events.push(`candidate on ${(sql as unknown as { name: string }).name}`);
          return { rows: ['a'] };
        },
      });
      const answer = await dualRead(opts);
      events.push('response');
      expect(answer).toEqual({ rows: ['a'] });
      await vi.waitFor(() => expect(records).toHaveLength(1));
      expect(events).toEqual(['primary on main', 'response', 'candidate on lane']);
      expect(records[0]).toMatchObject({ outcome: 'MATCH', served: 'PRIMARY', argsHash: digestJson('svc-1') });
      expect(records[0]?.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(records[0]?.primaryMs).toBeTypeOf('number');
      expect(records[0]?.candidateMs).toBeTypeOf('number');
    });

    it('records a shadow error and still answers', async () => {
      const { opts, records } = setup({ candidate: async () => Promise.reject(new Error('relation "nope" does not exist')) });
      await expect(dualRead(opts)).resolves.toEqual({ rows: ['a', 'b'] });
      await vi.waitFor(() => expect(records).toHaveLength(1));
      expect(records[0]).toMatchObject({ outcome: 'SHADOW_ERROR', candidateMs: null, primaryHash: null });
      expect(records[0]?.error).toMatch(/does not exist/);
    });

    it('records a statement_timeout cancel as a timeout and still answers', async () => {
      const cancel = Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
      const { opts, records, runner } = setup({ candidate: async () => Promise.reject(cancel), timeoutMs: 25 });
      await expect(dualRead(opts)).resolves.toEqual({ rows: ['a', 'b'] });
      await vi.waitFor(() => expect(records).toHaveLength(1));
      expect(records[0]?.outcome).toBe('SHADOW_TIMEOUT');
      expect(runner.calls[0]?.timeoutMs).toBe(25);
    });

    it('times out a shadow read that never returns, and holds its slot until it does', async () => {
      const hang = deferred<Answer>();
      const { opts, records, slots } = setup({ candidate: () => hang.promise, timeoutMs: 5 });
      await expect(dualRead(opts)).resolves.toEqual({ rows: ['a', 'b'] });
      await vi.waitFor(() => expect(records).toHaveLength(1), { timeout: 10_000 });
      expect(records[0]?.outcome).toBe('SHADOW_TIMEOUT');
      expect(slots.running).toBe(1);
      hang.resolve({ rows: [] });
      await vi.waitFor(() => expect(slots.running).toBe(0));
    });

    it('never starts more shadow reads than the lane allows, and counts the dropped ones', async () => {
      const gate = deferred<Answer>();
      let drops = 0;
      let started = 0;
      const slots = new ShadowSlots(1);
      const { opts, records } = setup({
        slots,
        candidate: () => {
          started++;
          return gate.promise;
        },
        onDrop: (reason) => {
          expect(reason).toBe('lane_full');
          drops++;
        },
      });
      const answers = await Promise.all([dualRead(opts), dualRead(opts), dualRead(opts)]);
      expect(answers).toEqual([{ rows: ['a', 'b'] }, { rows: ['a', 'b'] }, { rows: ['a', 'b'] }]);
      await vi.waitFor(() => expect(drops).toBe(2));
      expect(started).toBe(1);
      gate.resolve({ rows: ['a', 'b'] });
      await vi.waitFor(() => expect(records).toHaveLength(1));
      expect(slots.running).toBe(0);
    });
  });

  describe('when the answers differ', () => {
    it('confirms in one snapshot and records a divergence with its exemplar', async () => {
      const { opts, records, runner } = setup({ candidate: async () => ({ rows: ['a'] }) });
      await dualRead(opts);
      await vi.waitFor(() => expect(records).toHaveLength(1));
      const r = records[0];
      expect(r?.outcome).toBe('MISMATCH');
      expect(r?.primaryHash).toBe(digestJson({ rows: ['a', 'b'] }));
      expect(r?.candidateHash).toBe(digestJson({ rows: ['a'] }));
      expect(r?.exemplar).toEqual({ missing: ['b'], confirmation: { confirmed: true } });
      expect(runner.calls.map((c) => c.snapshot)).toEqual([false, true]);
    });

    it('calls it a race when both paths agree within one snapshot', async () => {
      let reads = 0;
      // The first candidate read sees an older state; the confirmation sees what the primary saw.
      const { opts, records } = setup({ candidate: async () => (reads++ === 0 ? { rows: ['a'] } : { rows: ['a', 'b'] }) });
      await dualRead(opts);
      await vi.waitFor(() => expect(records).toHaveLength(1));
      expect(records[0]).toMatchObject({ outcome: 'RACE', exemplar: null });
    });
  });

  describe('when the served path fails', () => {
    it('fails the call as it would without the experiment, records it, and runs no shadow', async () => {
      let shadowRuns = 0;
      const { opts, records } = setup({
        primary: async () => Promise.reject(new Error('connection reset')),
        candidate: async () => {
          shadowRuns++;
          return { rows: [] };
        },
      });
      await expect(dualRead(opts)).rejects.toThrow('connection reset');
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ outcome: 'SERVED_ERROR', served: 'PRIMARY' });
      await new Promise((r) => setImmediate(r));
      expect(shadowRuns).toBe(0);
    });
  });

  describe('after a cutover', () => {
    it('serves the candidate and shadows the primary', async () => {
      const { opts, records } = setup({
        readPath: 'CANDIDATE',
        primary: async () => ({ rows: ['old'] }),
        candidate: async () => ({ rows: ['new'] }),
      });
      await expect(dualRead(opts)).resolves.toEqual({ rows: ['new'] });
      await vi.waitFor(() => expect(records).toHaveLength(1));
      expect(records[0]).toMatchObject({ served: 'CANDIDATE', outcome: 'MISMATCH', primaryHash: digestJson({ rows: ['old'] }) });
    });
  });

  describe('when the call is not sampled', () => {
    it('runs the served path alone and records nothing', async () => {
      let shadowRuns = 0;
      const { opts, records, runner } = setup({
        sampleRate: 0,
        candidate: async () => {
          shadowRuns++;
          return { rows: [] };
        },
      });
      await dualRead(opts);
      await new Promise((r) => setImmediate(r));
      expect([shadowRuns, records.length, runner.calls.length]).toEqual([0, 0, 0]);
    });
  });

  describe('when the recorder or the hashing throws', () => {
    it('still answers', async () => {
      let hashed = 0;
      const { opts } = setup({
        record: () => {
          throw new Error('buffer on fire');
        },
        digest: () => {
          hashed++;
          throw new Error('cannot hash');
        },
      });
      await expect(dualRead(opts)).resolves.toEqual({ rows: ['a', 'b'] });
      await vi.waitFor(() => expect(hashed).toBe(2));
    });

    it('records a failed hash as a shadow error', async () => {
      const { opts, records } = setup({
        digest: () => {
          throw new Error('cannot hash');
        },
      });
      await dualRead(opts);
      await vi.waitFor(() => expect(records).toHaveLength(1));
      expect(records[0]).toMatchObject({ outcome: 'SHADOW_ERROR', primaryHash: null, candidateHash: null });
      expect(records[0]?.error).toMatch(/^digest: Error: cannot hash/);
    });
  });

  describe('when the lane loses the shadow read', () => {
    it('drops the sample with the reason and records nothing against the candidate', async () => {
      const reasons: string[] = [];
      const lost: ShadowReads<string> = {
        read: async () => ({ status: 'lost', reason: 'shadow_thread_exited' }),
        confirm: async () => ({ status: 'lost', reason: 'shadow_thread_exited' }),
      };
      const { opts, records, slots } = setup({ shadow: lost, onDrop: (reason) => reasons.push(reason) });
      await expect(dualRead(opts)).resolves.toEqual({ rows: ['a', 'b'] });
      await vi.waitFor(() => expect(reasons).toEqual(['shadow_thread_exited']));
      expect(records).toEqual([]);
      expect(slots.running).toBe(0);
    });
  });
});

describe('#ComparisonRecorder', () => {
  const row = (i: number): NewComparison => ({
    migrationId: 'm',
    served: 'PRIMARY',
    outcome: 'MATCH',
    argsHash: String(i),
    traceId: 't',
    replica: 'r',
    at: new Date(),
  });

  it('writes in batches and drops (counting) beyond its bound', async () => {
    const batches: number[] = [];
    const dropped: string[] = [];
    const gate = deferred<void>();
    const rec = new ComparisonRecorder({
      write: async (rows) => {
        batches.push(rows.length);
        await gate.promise;
      },
      flushMs: 60_000,
      batchSize: 3,
      maxBuffered: 4,
      onDrop: (n, reason) => dropped.push(`${n} ${reason}`),
    });
    for (let i = 0; i < 3; i++) rec.push(row(i));
    // The first batch is being written (and held); the buffer takes four more, then drops.
    for (let i = 3; i < 9; i++) rec.push(row(i));
    expect(dropped).toEqual(['1 buffer_full', '1 buffer_full']);
    gate.resolve();
    await rec.close();
    expect(batches).toEqual([3, 3, 1]);
  });

  it('counts a failed write as dropped outcomes, never throws', async () => {
    const dropped: string[] = [];
    const rec = new ComparisonRecorder({
      write: () => Promise.reject(new Error('db down')),
      flushMs: 60_000,
      batchSize: 10,
      maxBuffered: 10,
      onDrop: (n, reason) => dropped.push(`${n} ${reason}`),
    });
    rec.push(row(1));
    rec.push(row(2));
    await rec.flush();
    expect(dropped).toEqual(['2 write_failed']);
  });
});
