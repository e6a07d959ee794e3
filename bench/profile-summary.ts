// Summarises V8 CPU profiles written by `BENCH_PROFILE=1 npm run bench`: self time per package
// (or src/ folder) and per function, in µs per request when the request count is known.
//
//   node --import tsx bench/profile-summary.ts bench/results/profiles/candidate.cpuprofile [requests]
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  /** µs, monotonic clock. */
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled time, in µs (idle excluded). */
  busyUs: number;
  byPackage: [string, number][];
  /** Time of the samples whose stack passes through the package (callees included). */
  byPackageInclusive: [string, number][];
  byFunction: [string, number][];
}

function packageOf(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m?.[1]) return m[1];
  const own = /\/(src|bench)\/(?:([^/]+)\/)?[^/]*$/.exec(url);
  if (own) return own[2] && own[1] === 'src' ? `src/${own[2]}` : (own[1] as string);
  if (url.startsWith('node:')) return 'node (runtime)';
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : 'native';
  return url;
}

/**
 * `window` (µs on the monotonic clock, as process.hrtime.bigint() / 1000n gives) keeps only the
 * samples taken within it: the delivery in a profile of a whole process's life.
 */
export function summarize(path: string, top = 25, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const self = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    // The first delta is the time from Profiler.start to the first sample, not the sampled
    // function's: it would charge the inspector's dispatch with the profiler's start-up.
    if (i === 0 || (window && (at < window.fromUs || at > window.toUs))) return;
    self.set(id, (self.get(id) ?? 0) + delta);
  });
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busyUs = 0;
  for (const node of profile.nodes) {
    const t = self.get(node.id);
    if (!t || node.callFrame.functionName === '(idle)') continue;
    busyUs += t;
    const pkg = packageOf(node.callFrame);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + t);
    const f = node.callFrame;
    const where = f.url ? `${f.url.replace(/^.*?\/(node_modules|src|bench)\//, '$1/')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + t);
  }
  const parent = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const inclusive = new Map<string, number>();
  for (const [id, t] of self) {
    const leaf = byId.get(id);
    if (!leaf || leaf.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let n: ProfileNode | undefined = leaf; n; n = parent.get(n.id)) {
      if (n.callFrame.functionName === '(root)') continue;
      const pkg = packageOf(n.callFrame);
      if (seen.has(pkg)) continue;
      seen.add(pkg);
      inclusive.set(pkg, (inclusive.get(pkg) ?? 0) + t);
    }
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { busyUs, byPackage: sorted(byPackage), byPackageInclusive: sorted(inclusive), byFunction: sorted(byFunction) };
}

export function formatSummary(name: string, s: ProfileSummary, requests: number | null): string {
  const per = (us: number) => (requests ? `${(us / requests).toFixed(0).padStart(6)} µs/req` : '');
  const pct = (us: number) => `${((100 * us) / s.busyUs).toFixed(1).padStart(5)}%`;
  const lines = [
    `${name}: ${(s.busyUs / 1e6).toFixed(2)} s sampled${requests ? ` over ${requests} requests (${(s.busyUs / requests).toFixed(0)} µs/req)` : ''}`,
  ];
  lines.push('  by package:');
  for (const [k, us] of s.byPackage.slice(0, 14)) lines.push(`    ${pct(us)} ${per(us)}  ${k}`);
  lines.push('  by package, callees included:');
  for (const [k, us] of s.byPackageInclusive.slice(0, 16)) lines.push(`    ${pct(us)} ${per(us)}  ${k}`);
  lines.push('  by function (self time):');
  for (const [k, us] of s.byFunction.slice(0, 20)) lines.push(`    ${pct(us)} ${per(us)}  ${k}`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/bench\//, '/bench/'))) {
  const [path, requests] = process.argv.slice(2);
  if (!path) throw new Error('usage: bench/profile-summary.ts <file.cpuprofile> [requests]');
  process.stdout.write(`${formatSummary(path, summarize(path, 40), requests ? Number(requests) : null)}\n`);
}
