import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Sql } from 'postgres';
import { describe, expect, it, vi } from 'vitest';
import { dualRead, type DualReadOptions, type DualReadRecord } from '../../src/evolution/dual-read.js';
import { ComparisonRecorder } from '../../src/evolution/recorder.js';
import { shadowLane, ShadowSlots, type Isolate, type LanePlan, type ReadOnlyRunner } from '../../src/evolution/shadow.js';
import type { NewComparison } from '../../src/evolution/tables.js';
import type { ReadPath } from '../../src/evolution/types.js';
import { startTracing } from '../../src/tracing.js';
import { digestJson } from '../../src/util/canonical.js';

/** Stands for a postgres.js client: the reads under test never touch it. */
const MAIN = { name: 'main' } as unknown as Sql;
const LANE_TX = { name: 'lane' } as unknown as Sql;
const on = (sql: Sql) => (sql as unknown as { name: string }).name;

/** The shadow pool's read-only transactions, as the lane sees them. */
class FakeRunner implements ReadOnlyRunner {
  readonly calls: { snapshot: boolean; timeoutMs: number }[] = [];
  readOnly<T>(fn: (sql: Sql, isolate: Isolate) => Promise<T>, opts: { timeoutMs: number; snapshot?: boolean }): Promise<T> {
    this.calls.push({ snapshot: opts.snapshot === true, timeoutMs: opts.timeoutMs });
    return fn(LANE_TX, (inner) => inner(LANE_TX));
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
type Read = (sql: Sql) => Promise<Answer>;

interface Setup extends Partial<Omit<DualReadOptions<string, Answer>, 'primary' | 'candidate'>> {
  primary?: Read;
  candidate?: Read;
  /** The lane's digest of a path (default: digestJson of the path's answer, read on the lane). */
  digest?: (path: ReadPath, sql: Sql) => Promise<string>;
  describe?: LanePlan<string, Answer>['describeDivergence'];
  /** The lane's coin: below 0.5 the primary's statement runs first. */
  coin?: number;
  clock?: () => number;
}

/**
 * dualRead with the shadow lane over a fake pool, as the router wires it. Each path is one
 * function: the served read calls it on the main pool, the lane's digest and exemplar reads on
 * the lane's transaction.
 */
function setup(over: Setup = {}) {
  const records: DualReadRecord[] = [];
  const runner = new FakeRunner();
  const slots = over.slots ?? new ShadowSlots(2);
  const paths: Record<ReadPath, Read> = {
    PRIMARY: over.primary ?? (async () => ({ rows: ['a', 'b'] })),
    CANDIDATE: over.candidate ?? (async () => ({ rows: ['a', 'b'] })),
  };
  const plan: LanePlan<string, Answer> = {
    digest: (sql, path) => (over.digest ? over.digest(path, sql) : paths[path](sql).then((a) => digestJson(a))),
    read: (sql, path) => paths[path](sql),
    describeDivergence: over.describe ?? ((p, c) => ({ missing: p.rows.filter((x) => !c.rows.includes(x)) })),
  };
  const coin = over.coin ?? 0.25;
  const opts: DualReadOptions<string, Answer> = {
    args: 'svc-1',
    readPath: 'PRIMARY',
    sampleRate: 1,
    timeoutMs: 1000,
    sql: MAIN,
    record: (r) => records.push(r),
    argsDigest: (a) => digestJson(a),
    lane: shadowLane(runner, plan, { random: () => coin, ...(over.clock ? { now: over.clock } : {}) }),
    ...over,
    primary: (sql) => paths.PRIMARY(sql),
    candidate: (sql) => paths.CANDIDATE(sql),
    slots,
  };
  return { opts, records, runner, slots };
}

describe('#dualRead', () => {
  describe('when the call is sampled', () => {
    it('hands back the served answer before the lane starts, and hashes both paths in one snapshot', async () => {
      const events: string[] = [];
      const { opts, records, runner } = setup({
        primary: async (sql) => {
          events.push(`primary on ${on(sql)}`);
          return { rows: ['a'] };
        },
        candidate: async (sql) => {
          events.push(`candidate on ${on(sql)}`);
          return { rows: ['a'] };
        },
      });
      const answer = await dualRead(opts);
      events.push('response');
      expect(answer).toEqual({ rows: ['a'] });
      await vi.waitFor(() => expect(records).toHaveLength(1));
      expect(events).toEqual(['primary on main', 'response', 'primary on lane', 'candidate on lane']);
      expect(runner.calls).toEqual([{ snapshot: true, timeoutMs: 1000 }]);
      expect(records[0]).toMatchObject({
        outcome: 'MATCH',
        served: 'PRIMARY',
        argsHash: digestJson('svc-1'),
        primaryHash: digestJson({ rows: ['a'] }),
        candidateHash: digestJson({ rows: ['a'] }),
        exemplar: null,
      });
      expect(records[0]?.traceId).toMatch(/^[0-9a-f]{32}$/);
    });

    it.each([
      ['primary', 0.25, ['PRIMARY', 'CANDIDATE']],
      ['candidate', 0.75, ['CANDIDATE', 'PRIMARY']],
    ])('times each path by its own statement, whichever runs first (here the %s)', async (_first, coin, order) => {
      let t = 0;
      const ran: ReadPath[] = [];
      const { opts, records } = setup({
        coin,
        clock: () => t,
        digest: async (path) => {
          ran.push(path);
          t += path === 'PRIMARY' ? 5 : 7;
          return 'same';
        },
      });
      await dualRead(opts);
      await vi.waitFor(() => expect(records).toHaveLength(1));
      expect(ran).toEqual(order);
      expect(records[0]).toMatchObject({ outcome: 'MATCH', primaryMs: 5, candidateMs: 7 });
    });

    it('records a shadow error and still answers', async () => {
      const { opts, records } = setup({
        candidate: async (sql) => (on(sql) === 'lane' ? Promise.reject(new Error('relation "nope" does not exist')) : { rows: [] }),
      });
      await expect(dualRead(opts)).resolves.toEqual({ rows: ['a', 'b'] });
      await vi.waitFor(() => expect(records).toHaveLength(1));
      expect(records[0]).toMatchObject({ outcome: 'SHADOW_ERROR', candidateMs: null, primaryHash: null, candidateHash: null });
      expect(records[0]?.primaryMs).toBeTypeOf('number');
      expect(records[0]?.error).toMatch(/does not exist/);
    });

    it('records a statement_timeout cancel as a timeout and still answers', async () => {
      const cancel = Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
      const { opts, records, runner } = setup({ candidate: async () => Promise.reject(cancel), timeoutMs: 25, coin: 0.75 });
      await expect(dualRead(opts)).resolves.toEqual({ rows: ['a', 'b'] });
      await vi.waitFor(() => expect(records).toHaveLength(1));
      expect(records[0]).toMatchObject({ outcome: 'SHADOW_TIMEOUT', primaryMs: null, candidateMs: null });
      expect(runner.calls[0]?.timeoutMs).toBe(25);
    });

    it('drops the sample when the served path fails in the lane: that says nothing of the other path', async () => {
      const reasons: string[] = [];
      const { opts, records } = setup({
        primary: async (sql) =>
          on(sql) === 'lane' ? Promise.reject(new Error('canceling statement due to statement timeout')) : { rows: ['a'] },
        onDrop: (reason) => reasons.push(reason),
      });
      await expect(dualRead(opts)).resolves.toEqual({ rows: ['a'] });
      await vi.waitFor(() => expect(reasons).toEqual(['served_path_failed_in_lane']));
      expect(records).toEqual([]);
    });

    it('drops a sample the lane never answers, and holds its slot until it does', async () => {
      const hang = deferred<string>();
      const reasons: string[] = [];
      const { opts, records, slots } = setup({ digest: () => hang.promise, timeoutMs: 5, onDrop: (reason) => reasons.push(reason) });
      await expect(dualRead(opts)).resolves.toEqual({ rows: ['a', 'b'] });
      await vi.waitFor(() => expect(reasons).toEqual(['lane_unanswered']), { timeout: 10_000 });
      expect(records).toEqual([]);
      expect(slots.running).toBe(1);
      hang.resolve('x');
      await vi.waitFor(() => expect(slots.running).toBe(0));
    });

    it('never starts more comparisons than the lane allows, and counts the dropped ones', async () => {
      const gate = deferred<string>();
      const reasons: string[] = [];
      let started = 0;
      const slots = new ShadowSlots(1);
      const { opts, records } = setup({
        slots,
        digest: (path) => {
          if (path === 'PRIMARY') started++;
          return gate.promise;
        },
        onDrop: (reason) => reasons.push(reason),
      });
      const answers = await Promise.all([dualRead(opts), dualRead(opts), dualRead(opts)]);
      expect(answers).toEqual([{ rows: ['a', 'b'] }, { rows: ['a', 'b'] }, { rows: ['a', 'b'] }]);
      await vi.waitFor(() => expect(reasons).toEqual(['lane_full', 'lane_full']));
      expect(started).toBe(1);
      gate.resolve('same');
      await vi.waitFor(() => expect(records).toHaveLength(1));
      expect(slots.running).toBe(0);
    });
  });

  describe('when the answers differ', () => {
    it('records a divergence with its exemplar, read in the same snapshot', async () => {
      const { opts, records, runner } = setup({ candidate: async () => ({ rows: ['a'] }) });
      await dualRead(opts);
      await vi.waitFor(() => expect(records).toHaveLength(1));
      const r = records[0];
      expect(r?.outcome).toBe('MISMATCH');
      expect(r?.primaryHash).toBe(digestJson({ rows: ['a', 'b'] }));
      expect(r?.candidateHash).toBe(digestJson({ rows: ['a'] }));
      expect(r?.exemplar).toEqual({ missing: ['b'] });
      expect(runner.calls.map((c) => c.snapshot)).toEqual([true]);
    });

    it('keeps the divergence when its exemplar cannot be made', async () => {
      const { opts, records } = setup({
        candidate: async () => ({ rows: ['a'] }),
        describe: () => {
          throw new Error('cannot describe');
        },
      });
      await dualRead(opts);
      await vi.waitFor(() => expect(records).toHaveLength(1));
      expect(records[0]).toMatchObject({ outcome: 'MISMATCH', exemplar: { exemplarError: 'Error: cannot describe' } });
    });
  });

  describe('when the served path fails', () => {
    it('fails the call as it would without the experiment, records it, and runs no shadow', async () => {
      const { opts, records, runner } = setup({ primary: async () => Promise.reject(new Error('connection reset')) });
      await expect(dualRead(opts)).rejects.toThrow('connection reset');
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ outcome: 'SERVED_ERROR', served: 'PRIMARY' });
      await new Promise((r) => setImmediate(r));
      expect(runner.calls).toEqual([]);
    });
  });

  describe('after a cutover', () => {
    it('serves the candidate and still compares both paths', async () => {
      const { opts, records } = setup({
        readPath: 'CANDIDATE',
        primary: async () => ({ rows: ['old'] }),
        candidate: async () => ({ rows: ['new'] }),
      });
      await expect(dualRead(opts)).resolves.toEqual({ rows: ['new'] });
      await vi.waitFor(() => expect(records).toHaveLength(1));
      expect(records[0]).toMatchObject({
        served: 'CANDIDATE',
        outcome: 'MISMATCH',
        primaryHash: digestJson({ rows: ['old'] }),
        candidateHash: digestJson({ rows: ['new'] }),
      });
    });
  });

  describe('when the call is not sampled', () => {
    it('runs the served path alone and records nothing', async () => {
      let laneReads = 0;
      const { opts, records, runner } = setup({
        sampleRate: 0,
        candidate: async (sql) => {
          if (on(sql) === 'lane') laneReads++;
          return { rows: [] };
        },
      });
      await dualRead(opts);
      await new Promise((r) => setImmediate(r));
      expect([laneReads, records.length, runner.calls.length]).toEqual([0, 0, 0]);
    });
  });

  describe('when the recorder throws', () => {
    it('still answers', async () => {
      let recorded = 0;
      const { opts } = setup({
        record: () => {
          recorded++;
          throw new Error('buffer on fire');
        },
      });
      await expect(dualRead(opts)).resolves.toEqual({ rows: ['a', 'b'] });
      await vi.waitFor(() => expect(recorded).toBe(1));
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

describe('#dualRead with tracing on', () => {
  it('records a divergence with the trace id of the request it came from', async () => {
    const tracing = await startTracing(null, new InMemorySpanExporter());
    try {
      const { opts, records } = setup({ candidate: async () => ({ rows: ['a'] }) });
      const traceId = await trace.getTracer('test').startActiveSpan('request', async (span) => {
        await dualRead(opts);
        span.end();
        return span.spanContext().traceId;
      });
      await vi.waitFor(() => expect(records).toHaveLength(1));
      expect(records[0]?.outcome).toBe('MISMATCH');
      expect(records[0]?.traceId).toBe(traceId);
    } finally {
      await tracing?.shutdown();
    }
  });
});
