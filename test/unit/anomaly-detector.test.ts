import { describe, expect, it } from 'vitest';
import {
  backtestSeries,
  DEFAULT_DETECTOR,
  detectorConfig,
  initialRuleState,
  jensenShannon,
  judgeInterval,
  judgeSpike,
  median,
  normalDeviate,
  newRuleWindow,
  OTHER_KEY,
  pairKey,
  topCounts,
  type IntervalAggregate,
  type JudgedInterval,
  type SeriesPoint,
} from '../../src/anomalies/detector.js';
import { poisson, prng } from '../../src/anomalies/synthetic.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 3, 1);

/** Per-minute Poisson deny counts with a daily cycle, `days` long, with `spikes` added. */
function series(days: number, spikes: { at: number; len: number; extra: number }[] = [], seed = 7): SeriesPoint[] {
  const rand = prng(seed);
  return Array.from({ length: days * 1440 }, (_, i) => {
    const level = 4 + 16 * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / 1440));
    const extra = spikes.find((s) => i >= s.at && i < s.at + s.len)?.extra ?? 0;
    return { t: T0 + i * MINUTE, value: poisson(rand, level) + extra };
  });
}

describe('#robust statistics', () => {
  it('takes medians of odd and even samples', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('gives a Jensen-Shannon divergence in [0, 1]: 0 for equal mixes, symmetric, near 1 for disjoint ones', () => {
    const a = new Map([
      ['x', 10],
      ['y', 30],
    ]);
    const b = new Map([
      ['x', 30],
      ['y', 10],
    ]);
    expect(jensenShannon(a, new Map(a), 0.5)).toBeCloseTo(0, 12);
    expect(jensenShannon(a, b, 0.5)).toBeCloseTo(jensenShannon(b, a, 0.5), 12);
    const disjoint = jensenShannon(new Map([['p', 1000]]), new Map([['q', 1000]]), 0.01);
    expect(disjoint).toBeGreaterThan(0.99);
    expect(disjoint).toBeLessThanOrEqual(1);
  });

  it('keeps the top pairs and pools the rest', () => {
    const m = topCounts(
      new Map([
        ['a', 5],
        ['b', 3],
        ['c', 1],
        ['d', 1],
      ]),
      2,
    );
    expect([...m]).toEqual([
      ['a', 5],
      ['b', 3],
      [OTHER_KEY, 2],
    ]);
  });
});

describe('#detectorConfig', () => {
  it('merges overrides onto the defaults and refuses nonsense, listing every problem', () => {
    expect(detectorConfig({ spike: { zOpen: 8 } }).spike).toEqual({ ...DEFAULT_DETECTOR.spike, zOpen: 8 });
    expect(() => detectorConfig({ intervalMs: -1, spike: { zClose: 99 } })).toThrow(
      /intervalMs must be a positive number.*zClose must not exceed zOpen/,
    );
    expect(() => detectorConfig({ intervalMs: 7 * MINUTE })).toThrow(/periodMs must be a multiple of intervalMs/);
  });
});

describe('#backtestSeries (DENY_SPIKE)', () => {
  const cfg = detectorConfig();

  describe('when the series is seasonal noise only', () => {
    it('raises nothing across three days of daily ramps', () => {
      const out = backtestSeries(series(3), cfg);
      expect(out.filter((r) => r.isAnomaly)).toEqual([]);
      expect(out.every((r) => r.score >= 0 && r.score <= 1)).toBe(true);
    });
  });

  describe('when a spike is injected', () => {
    it('raises it once, however many intervals it lasts (hysteresis)', () => {
      const at = 2 * 1440 + 600;
      const out = backtestSeries(series(3, [{ at, len: 12, extra: 80 }]), cfg);
      const alerts = out.flatMap((r, i) => (r.isAnomaly ? [i] : []));
      expect(alerts).toEqual([at]);
      expect(out[at]?.score).toBeGreaterThanOrEqual(0.5);
    });

    it('raises two incidents for two spikes separated by a quiet spell', () => {
      const a = 2 * 1440 + 300;
      const b = a + 120;
      const alerts = backtestSeries(
        series(3, [
          { at: a, len: 5, extra: 80 },
          { at: b, len: 5, extra: 80 },
        ]),
        cfg,
      ).flatMap((r, i) => (r.isAnomaly ? [i] : []));
      expect(alerts).toEqual([a, b]);
    });

    it('stays silent during the warm-up (no seasonal history yet)', () => {
      const out = backtestSeries(series(1, [{ at: 600, len: 5, extra: 80 }]), cfg);
      expect(out.some((r) => r.isAnomaly)).toBe(false);
    });
  });

  describe('when the rule is quiet', () => {
    it('does not page below the minimum count, whatever the z-score', () => {
      const quiet: SeriesPoint[] = Array.from({ length: 3 * 1440 }, (_, i) => ({
        t: T0 + i * MINUTE,
        value: i === 2 * 1440 + 100 ? 8 : 0,
      }));
      const out = backtestSeries(quiet, cfg);
      expect(out.some((r) => r.isAnomaly)).toBe(false);
      expect(out[2 * 1440 + 100]?.score).toBeGreaterThan(0.5);
    });
  });

  describe('when rows are missing or repeated', () => {
    it('answers one row per input row, in order', () => {
      const pts = series(2).filter((_, i) => i % 7 !== 3);
      const withDup = [...pts.slice(0, 100), pts[50] as SeriesPoint, ...pts.slice(100)];
      const out = backtestSeries(withDup, cfg);
      expect(out.map((r) => r.t)).toEqual(withDup.map((p) => p.t));
    });
  });
});

describe('#judgeSpike (spread of skewed counts)', () => {
  const cfg = detectorConfig();
  const idx = 10 * 1440;
  const at = (i: number, denies: number): JudgedInterval => ({
    idx: i,
    total: denies,
    denies,
    mix: null,
    jsd: null,
    spikeFlag: false,
    mixFlag: false,
  });
  // Bursty counts: exponentially distributed above a floor of 10 (median ≈ 38), as request and
  // deny counts are: a tight lower half and a long upper one. The golden-ratio sequence covers
  // the quantiles evenly without a random seed.
  const bursty = (i: number) => Math.round(10 + 40 * -Math.log(1 - ((i * 0.6180339887) % 1) * 0.98));
  const judge = (observed: number, denies: (i: number) => number) =>
    judgeSpike(observed, idx, (k) => (k < idx ? at(k, denies(k)) : undefined), cfg);
  const opens = (j: { z: number }) => j.z >= cfg.spike.zOpen;

  it('measures the spread upwards: a burst within the rule’s usual reach does not open, a larger one does', () => {
    // A symmetric MAD (the lower half is tight) would put 250 at z ≈ 8.5 and open an incident.
    const routine = judge(250, bursty);
    expect(routine.warm).toBe(true);
    expect(routine.z).toBeLessThan(cfg.spike.zOpen);
    expect(opens(routine)).toBe(false);
    const spike = judge(400, bursty);
    expect(spike.z).toBeGreaterThanOrEqual(cfg.spike.zOpen);
    expect(opens(spike)).toBe(true);
  });

  it('does not let a steady seasonal slot narrow the spread of a bursty recent window', () => {
    // Same recent hour, but every seasonal slot is exactly 30: pooled deviations would be mostly
    // zeros (z ≈ 18 for 250); the larger of the two windows' spreads keeps the recent bursts.
    const steadySeason = (i: number) => (idx - i <= cfg.recentIntervals ? bursty(i) : 30);
    expect(opens(judge(250, steadySeason))).toBe(false);
    expect(judge(250, steadySeason).z).toBeCloseTo(judge(250, bursty).z, 6);
    expect(opens(judge(400, steadySeason))).toBe(true);
  });
});

describe('#judgeInterval (UNUSUAL_MIX)', () => {
  const cfg = detectorConfig();
  const actors = ['alice', 'bob', 'carol', 'dave', 'erin'];

  function run(shiftAt: number, len: number) {
    const rand = prng(11);
    const history = new Map<number, JudgedInterval>();
    const window = newRuleWindow();
    let state = initialRuleState();
    const opened: { idx: number; kind: string }[] = [];
    for (let i = 0; i < 2 * 1440; i++) {
      const mix = new Map<string, number>();
      const n = 60 + poisson(rand, 20);
      const shifted = i >= shiftAt && i < shiftAt + len ? Math.round(n * 0.6) : 0;
      for (let k = 0; k < n - shifted; k++) {
        const key = pairKey(actors[Math.floor(rand() * actors.length)] as string, `doc-${Math.floor(rand() * 4)}`);
        mix.set(key, (mix.get(key) ?? 0) + 1);
      }
      if (shifted) mix.set(pairKey('mallory', 'doc-secret'), shifted);
      const obs: IntervalAggregate = { total: n, denies: poisson(rand, 5), mix };
      const j = judgeInterval(obs, i, (k) => history.get(k), state, cfg, window);
      history.set(i, j.stored);
      state = j.state;
      if (j.spike.opened) opened.push({ idx: i, kind: 'DENY_SPIKE' });
      if (j.mix.opened) opened.push({ idx: i, kind: 'UNUSUAL_MIX', ...{ top: j.mix.topPairs[0]?.key } });
    }
    return opened;
  }

  it('raises one UNUSUAL_MIX when a new actor takes most of a rule’s traffic, naming it first', () => {
    const at = 1440 + 400;
    const opened = run(at, 15);
    expect(opened).toEqual([{ idx: at, kind: 'UNUSUAL_MIX', top: pairKey('mallory', 'doc-secret') }]);
  });

  it('raises nothing on a steady mix', () => {
    expect(run(-100, 0)).toEqual([]);
  });
});

describe('#judgeInterval (UNUSUAL_MIX and sample size)', () => {
  const cfg = detectorConfig();
  // 30 actors × 10 resources with Zipf-like popularity, as the synthetic rules have.
  const pairs = Array.from({ length: 300 }, (_, i) => {
    const [a, r] = [i % 30, Math.floor(i / 30)];
    return { key: pairKey(`svc-${a}`, `res-${r}`), w: 1 / ((a + 1) * Math.sqrt(r + 1)) };
  });
  const totalWeight = pairs.reduce((a, p) => a + p.w, 0);
  const draw = (rand: () => number, n: number) => {
    const mix = new Map<string, number>();
    for (let d = 0; d < n; d++) {
      let x = rand() * totalWeight;
      const pair = pairs.find((p) => (x -= p.w) <= 0) ?? (pairs[0] as (typeof pairs)[number]);
      mix.set(pair.key, (mix.get(pair.key) ?? 0) + 1);
    }
    return mix;
  };
  const sum = (mix: ReadonlyMap<string, number>) => [...mix.values()].reduce((a, v) => a + v, 0);

  // A day and an hour of busy minutes (about 400 decisions each) drawn from that distribution.
  const rand = prng(5);
  const history = new Map<number, JudgedInterval>();
  const window = newRuleWindow();
  let state = initialRuleState();
  const end = 1440 + 90;
  for (let i = 0; i < end; i++) {
    const mix = draw(rand, 380 + poisson(rand, 20));
    const j = judgeInterval({ total: sum(mix), denies: 5, mix }, i, (k) => history.get(k), state, cfg, window);
    history.set(i, j.stored);
    state = j.state;
  }
  const judgeNext = (mix: ReadonlyMap<string, number>) =>
    judgeInterval({ total: sum(mix), denies: 5, mix }, end, (k) => history.get(k), state, cfg).mix;

  it('does not open on a quiet minute drawn from the baseline, though its divergence is larger than a busy one’s', () => {
    // 60 decisions over 150 pairs diverge from their source by chance; judged against the
    // divergences of 400-decision minutes they looked like a shift (z far above 6).
    for (let s = 0; s < 5; s++) {
      const quiet = judgeNext(draw(rand, 60));
      expect(quiet.jsd).toBeGreaterThan(cfg.mix.minJsd);
      expect(quiet.opened).toBe(false);
    }
  });

  it('opens on the same proportions at ten times the decisions, where they are no longer chance', () => {
    const quiet = draw(rand, 60);
    const busy = new Map([...quiet].map(([key, v]) => [key, v * 10]));
    expect(judgeNext(quiet).opened).toBe(false);
    const j = judgeNext(busy);
    expect(j.jsd).toBeGreaterThan(cfg.mix.minJsd);
    expect(j.z).toBeGreaterThanOrEqual(cfg.mix.zOpen);
    expect(j.opened).toBe(true);
  });

  it('puts the G-test’s p-value on the z scale', () => {
    expect(normalDeviate(1e-9)).toBeCloseTo(6, 2);
    expect(normalDeviate(0.5)).toBeCloseTo(0, 12);
    expect(normalDeviate(0)).toBeLessThan(40);
  });
});

describe('#backtestSeries (anomaly score: both directions, level shifts, variance changes)', () => {
  const cfg = detectorConfig();
  const day3 = 2 * 1440;
  /** A busy rule: Poisson denies around 40–80 a minute with a daily cycle, 3 days, then `edit`. */
  function busy(edit: (i: number, v: number, level: number, rand: () => number) => number = (_i, v) => v, seed = 3): SeriesPoint[] {
    const rand = prng(seed);
    return Array.from({ length: 3 * 1440 }, (_, i) => {
      const level = 40 + 40 * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / 1440));
      return { t: T0 + i * MINUTE, value: edit(i, poisson(rand, level), level, rand) };
    });
  }
  const maxScore = (out: { score: number }[], from: number, to: number) => Math.max(...out.slice(from, to).map((r) => r.score));
  const at = day3 + 600;

  it('scores seasonal noise low and pages nothing', () => {
    const out = backtestSeries(busy(), cfg);
    const day = out
      .slice(day3)
      .map((r) => r.score)
      .sort((a, b) => a - b);
    expect(day[Math.floor(day.length * 0.99)]).toBeLessThan(0.25);
    expect(day.at(-1)).toBeLessThan(0.5);
    expect(out.filter((r) => r.isAnomaly)).toEqual([]);
  });

  it('pages a drop to zero (a bundle that stopped evaluating) once, at once', () => {
    const out = backtestSeries(
      busy((i, v) => (i >= at && i < at + 30 ? 0 : v)),
      cfg,
    );
    expect(out[at]?.score).toBeGreaterThanOrEqual(0.5);
    expect(out.flatMap((r, i) => (r.isAnomaly ? [i] : []))).toEqual([at]);
  });

  it("does not page drops when the series kind says only rises matter (direction 'up')", () => {
    const out = backtestSeries(
      busy((i, v) => (i >= at && i < at + 30 ? 0 : v)),
      detectorConfig({ direction: 'up' }),
    );
    expect(out.filter((r) => r.isAnomaly)).toEqual([]);
  });

  it('scores a level shift (+60%, no single interval extreme) high within the hour after it', () => {
    const out = backtestSeries(
      busy((i, v, level, rand) => (i >= at ? poisson(rand, level * 1.6) : v)),
      cfg,
    );
    expect(maxScore(out, day3, at)).toBeLessThan(0.5);
    expect(maxScore(out, at, at + 60)).toBeGreaterThanOrEqual(0.5);
  });

  it('scores a variance change (same mean, twice the spread) high within the hour after it', () => {
    const normal = (rand: () => number) => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
    const out = backtestSeries(
      busy((i, v, level, rand) => (i >= at && i < at + 180 ? Math.max(0, Math.round(level + 2 * Math.sqrt(level) * normal(rand))) : v)),
      cfg,
    );
    expect(maxScore(out, day3, at)).toBeLessThan(0.5);
    expect(maxScore(out, at, at + 60)).toBeGreaterThanOrEqual(0.5);
  });

  it('learns a weekly cycle online: a quiet weekend is not an anomaly once weeks of history show it', () => {
    // Three weeks; T0 (2026-04-01) is a Wednesday, so days 3–4 of each week are the weekend, at a third of the traffic.
    const rand = prng(9);
    const pts = Array.from({ length: 21 * 1440 }, (_, i) => {
      const weekend = [3, 4].includes(Math.floor(i / 1440) % 7);
      const level = (40 + 40 * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / 1440))) * (weekend ? 1 / 3 : 1);
      return { t: T0 + i * MINUTE, value: poisson(rand, level) };
    });
    const thirdWeekend = [17 * 1440, 19 * 1440] as const;
    const weekly = backtestSeries(pts, cfg);
    expect(maxScore(weekly, ...thirdWeekend)).toBeLessThan(0.5);
    expect(weekly.slice(14 * 1440).filter((r) => r.isAnomaly)).toEqual([]);
    // The daily window alone (seasonWeeks 0) takes every weekend for a collapse.
    expect(maxScore(backtestSeries(pts, detectorConfig({ seasonWeeks: 0 })), ...thirdWeekend)).toBeGreaterThanOrEqual(0.5);
  });

  it('replays the server: chunked with state through JSON equals judging every interval in one go', () => {
    const pts = busy((i, v) => (i >= at && i < at + 30 ? 0 : i >= at + 200 && i < at + 210 ? v * 3 : v));
    const history = new Map<number, JudgedInterval>();
    let state = initialRuleState();
    const window = newRuleWindow();
    const direct = pts.map((p) => {
      const idx = Math.floor(p.t / MINUTE);
      const j = judgeInterval({ total: p.value, denies: p.value, mix: null }, idx, (k) => history.get(k), state, cfg, window);
      history.set(idx, j.stored);
      state = j.state;
      return { t: p.t, value: p.value, score: j.spike.score, isAnomaly: j.spike.opened ? 1 : 0 };
    });
    expect(backtestSeries(pts, cfg)).toEqual(direct);
  });
});
