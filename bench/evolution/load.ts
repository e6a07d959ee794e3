// Open-loop load generator: sends the gateway's `_entities` batch at a fixed rate whatever the
// server's latency (no coordinated omission: latency counts from each request's scheduled time),
// records every outcome, and writes them as NDJSON to <out> on SIGTERM.
//
//   node --import tsx bench/evolution/load.ts <graphql url> <requests per second> <out.ndjson>
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { benchToken, body } from './shared.js';

const [url, rateArg, out] = process.argv.slice(2);
const rate = Number(rateArg);
if (!url || !out || !(rate > 0)) throw new Error('usage: load.ts <url> <rate> <out.ndjson>');

/** One request: when it was due (epoch ms), its latency from then, and what came back. */
export interface Sample {
  at: number;
  ms: number;
  ok: boolean;
  batch: number;
  /** sha256 of the response body: the same batch must get the same answer all run long. */
  digest: string | null;
  error: string | null;
}

const token = await benchToken(['viewer'], 'load@evolution-bench');
const samples: Sample[] = [];
const MAX_OUTSTANDING = 500;
let outstanding = 0;
let i = 0;
const interval = 1000 / rate;
const origin = performance.now();
const epoch = Date.now();
let next = origin;

function fire(dueAt: number): void {
  const n = i++;
  const batch = n % 40;
  const at = epoch + (dueAt - origin);
  if (outstanding >= MAX_OUTSTANDING) {
    samples.push({ at, ms: 0, ok: false, batch, digest: null, error: 'load generator: too many outstanding requests' });
    return;
  }
  outstanding++;
  fetch(url as string, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body(n),
    signal: AbortSignal.timeout(15_000),
  })
    .then(async (res) => {
      const text = await res.text();
      const parsed = JSON.parse(text) as { errors?: { extensions?: { code?: string } }[]; data?: { _entities?: unknown[] } };
      const ms = performance.now() - dueAt;
      const error = !res.ok
        ? `HTTP ${res.status}`
        : parsed.errors?.length
          ? `GraphQL ${parsed.errors[0]?.extensions?.code ?? 'error'}`
          : parsed.data?._entities?.length !== 50
            ? 'short answer'
            : null;
      samples.push({
        at,
        ms,
        ok: error === null,
        batch,
        digest: error === null ? createHash('sha256').update(text).digest('hex') : null,
        error,
      });
    })
    .catch((err: unknown) => {
      samples.push({
        at,
        ms: performance.now() - dueAt,
        ok: false,
        batch,
        digest: null,
        error: err instanceof Error ? err.message : String(err),
      });
    })
    .finally(() => outstanding--);
}

function tick(): void {
  const now = performance.now();
  while (next <= now) {
    fire(next);
    next += interval;
  }
  setTimeout(tick, Math.max(0, next - performance.now()));
}
tick();

process.on('SIGTERM', () => {
  writeFileSync(out, samples.map((s) => JSON.stringify(s)).join('\n') + '\n');
  process.exit(0);
});
