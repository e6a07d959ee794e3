import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { devSecret } from '../auth/dev-secret.js';
import type { Role } from '../auth/session.js';
import { mintToken } from '../auth/tokens.js';
import {
  account,
  COMPOSITIONS,
  parseDelta,
  parseOrders,
  SERVER_ORDERS,
  toEvent,
  microOfUnits,
  type Composition,
  type DeclaredMechanism,
  type MechanismEvent,
} from '../budgets/accountant.js';
import { DEFAULT_ORDERS } from '../budgets/rdp.js';
import { badInput } from '../errors.js';
import { cliConfig, serverUrl } from '../config.js';
import { gql, type GqlTarget } from './gql-client.js';
import { runCli } from './run.js';

const program = new Command('ig-budget').description('Privacy (ε) budget tools');

/** A number option, or a BAD_USER_INPUT naming it (exit 2). */
const numberOf = (v: string, option: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw badInput(`${option} must be a number (got ${JSON.stringify(v)})`);
  return n;
};

/** Events of a JSON array (ig-budget account's FILE), validated like a spend's mechanism. */
function eventsOf(json: unknown, source: string): MechanismEvent[] {
  if (!Array.isArray(json)) throw badInput(`${source}: events must be a JSON array of mechanisms`);
  return json.map((e: unknown, i) => {
    if (typeof e !== 'object' || e === null || typeof (e as { mechanism?: unknown }).mechanism !== 'string')
      throw badInput(`${source}: event ${i} must be an object with a "mechanism" string`);
    const d = e as Record<string, unknown>;
    for (const [k, v] of Object.entries(d)) {
      if (k === 'mechanism') continue;
      if (!['epsilon', 'scale', 'sigma', 'sensitivity', 'noiseMultiplier', 'rho', 'sampleRate', 'count'].includes(k))
        throw badInput(`${source}: event ${i} has an unknown field "${k}"`);
      if (typeof v !== 'number') throw badInput(`${source}: event ${i}: ${k} must be a number`);
    }
    return toEvent(d as unknown as DeclaredMechanism, `events[${i}].`);
  });
}

/**
 * The accountant on a list of events, offline: the same code the server composes spends with
 * (src/budgets/accountant.ts), so a data scientist can see what a workload costs before running it.
 */
program
  .command('account')
  .description('Compose a list of mechanism events under BASIC, RDP or zCDP and print the (ε, δ) it costs')
  .addOption(new Option('--composition <kind>', 'basic, rdp or zcdp').choices(['basic', 'rdp', 'zcdp']).makeOptionMandatory())
  .requiredOption('--delta <δ>', 'target δ, 0 < δ < 1')
  .option('--orders <list>', `comma-separated Rényi orders (default: dp-accounting's ${DEFAULT_ORDERS.length} orders, 1.1 … 1024)`)
  .requiredOption(
    '--events <file>',
    'JSON array of events, e.g. [{"mechanism":"gaussian","noiseMultiplier":2,"sampleRate":0.01,"count":1000}]',
  )
  .action(async (opts: { composition: string; delta: string; orders?: string; events: string }) => {
    const delta = parseDelta(numberOf(opts.delta, '--delta'), '--delta');
    const orders =
      opts.orders === undefined
        ? [...DEFAULT_ORDERS]
        : parseOrders(
            opts.orders.split(',').map((o) => numberOf(o, '--orders')),
            '--orders',
          );
    const events = eventsOf(JSON.parse(await readFile(opts.events, 'utf8')), opts.events);
    const r = account(opts.composition.toUpperCase() as Composition, delta, orders, events);
    process.stdout.write(`${JSON.stringify({ epsilon: Number.isFinite(r.epsilon) ? r.epsilon : null, delta: r.delta, order: r.order })}\n`);
  });

interface Alert {
  seq: number;
  tenantId: string;
  status: string;
  kind: 'THRESHOLD' | 'EXHAUSTION_FORECAST';
  projectedExhaustionAt: string | null;
  epsilonRemaining: number;
  notice: string;
}

/**
 * The sprint's acceptance run for budgets: two tenants exhaust their window; a warranted override
 * is filed for each; one is approved by a second privacy officer, the other rejected. Alerts
 * arrive over graphql-ws as they happen; at the end every window is checked against its limit.
 */
program
  .command('simulate')
  .description('Drive two tenants through exhaustion, overrides and alerts against a running server')
  .option('--url <url>', 'GraphQL endpoint (default $IG_URL or the server npm start runs here)')
  .option('--tenants <a,b>', 'the two tenants to use', `sim-${Date.now().toString(36)}-a,sim-${Date.now().toString(36)}-b`)
  .option('--query <file>', "the side-by-side comparison's query: one event as in `account` (default: a Gaussian, noise multiplier 10)")
  .option('--limit <ε>', "the comparison's ε limit", '2')
  .option('--delta <δ>', "the comparison's δ", '1e-6')
  .option('--no-compare', 'skip the side-by-side comparison of BASIC, RDP and zCDP')
  .option('--only-compare', 'run only the side-by-side comparison')
  .action(
    async (opts: {
      url?: string;
      tenants: string;
      query?: string;
      limit: string;
      delta: string;
      compare: boolean;
      onlyCompare?: boolean;
    }) => {
      const c = cliConfig();
      const url = opts.url ?? serverUrl(c);
      if (c.AUTH_JWKS_URL)
        throw new Error('the simulation mints its own tokens: it needs AUTH_JWT_SECRET or the development secret, not a JWKS');
      const secret = c.AUTH_JWT_SECRET ?? (await devSecret(c.DATA_DIR, false));
      const [a, b] = opts.tenants.split(',');
      if (!a || !b) throw new Error('--tenants needs two tenant ids, comma-separated');
      const limit = numberOf(opts.limit, '--limit');
      if (!(limit > 0 && limit <= 1000)) throw badInput('--limit must be greater than 0 and at most 1000');
      const delta = parseDelta(numberOf(opts.delta, '--delta'), '--delta');
      const query = opts.query
        ? (eventsOf([JSON.parse(await readFile(opts.query, 'utf8'))], opts.query)[0] as MechanismEvent)
        : ({ mechanism: 'gaussian', noiseMultiplier: 10, sampleRate: 1, count: 1 } as MechanismEvent);
      const compareTenants = COMPOSITIONS.map((k) => `${a}-${k.toLowerCase()}`);
      const as = async (sub: string, roles: Role[]): Promise<GqlTarget> => ({
        url,
        token: await mintToken({
          secret,
          sub,
          roles,
          tenants: [a, b, ...compareTenants],
          issuer: c.AUTH_ISSUER,
          audience: c.AUTH_AUDIENCE,
        }),
      });
      const officer = await as('olivia@privacy (simulation)', ['privacy_officer']);
      const officer2 = await as('oscar@privacy (simulation)', ['privacy_officer']);
      const compliance = await as('carol@compliance (simulation)', ['compliance']);
      const engine = await as('dp-engine (simulation)', ['dp_engine']);
      const say = (s: string) => process.stdout.write(`${s}\n`);

      if (opts.onlyCompare) {
        await compare({ officer, engine, say, tenants: compareTenants, limit, delta, query });
        return;
      }
      const alerts: Alert[] = [];
      const ws = createClient({
        url: url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${compliance.token}` },
      });
      const { budgetAlertLog } = await gql<{ budgetAlertLog: { seq: number }[] }>(compliance, `{ budgetAlertLog(first: 1000) { seq } }`);
      const after = budgetAlertLog.at(-1)?.seq ?? 0;
      const stop = ws.subscribe<{ budgetAlerts: Alert }>(
        {
          query: `subscription($after: Int) { budgetAlerts(afterSeq: $after) { seq tenantId status kind projectedExhaustionAt epsilonRemaining notice } }`,
          variables: { after },
        },
        {
          next: (m) => {
            const alert = m.data?.budgetAlerts;
            if (!alert || (alert.tenantId !== a && alert.tenantId !== b)) return;
            alerts.push(alert);
            say(
              alert.kind === 'EXHAUSTION_FORECAST'
                ? `  ⚑ alert #${alert.seq} ${alert.tenantId}: EXHAUSTION_FORECAST (runs out by ${alert.projectedExhaustionAt}; ${alert.epsilonRemaining} ε left)`
                : `  ⚑ alert #${alert.seq} ${alert.tenantId}: ${alert.status} (${alert.epsilonRemaining} ε left)`,
            );
          },
          error: (e) => say(`  subscription error: ${e instanceof Error ? e.message : JSON.stringify(e)}`),
          complete: () => undefined,
        },
      );

      for (const t of [a, b]) {
        await gql(officer, `mutation($i: BudgetPolicyInput!) { setBudgetPolicy(input: $i) { tenantId } }`, {
          i: { tenantId: t, epsilonLimit: 5, window: 'DAY' },
        });
        say(`policy: ${t} gets 5 ε per day`);
      }
      const spend = (t: string, i: number) =>
        gql<{
          spendPrivacyBudget: { granted: boolean; denialReason: string | null; budget: { epsilonRemaining: number; status: string } };
        }>(
          engine,
          `mutation($i: SpendInput!) { spendPrivacyBudget(input: $i) { granted denialReason budget { epsilonRemaining status } } }`,
          { i: { tenantId: t, epsilon: 0.5, mechanism: 'laplace', queryRef: `sim-query-${i}`, idempotencyKey: `${t}-${i}` } },
        );
      for (const t of [a, b]) {
        say(`exhaustion event: ${t} runs 11 queries of 0.5 ε`);
        for (let i = 0; i < 11; i++) {
          const r = (await spend(t, i)).spendPrivacyBudget;
          if (!r.granted) say(`  query ${i}: denied: ${r.denialReason}`);
        }
      }
      const warrant = (ref: string) => ({
        reference: ref,
        authority: 'Data Protection Officer',
        justification: 'incident response (simulation)',
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      });
      const request = (t: string, ref: string) =>
        gql<{ requestBudgetOverride: { id: string } }>(
          compliance,
          `mutation($i: OverrideRequestInput!) { requestBudgetOverride(input: $i) { id } }`,
          { i: { tenantId: t, epsilon: 2, warrant: warrant(ref) } },
        );
      const ra = (await request(a, 'WARRANT-SIM-A')).requestBudgetOverride.id;
      const rb = (await request(b, 'WARRANT-SIM-B')).requestBudgetOverride.id;
      const approved = await gql<{ approveBudgetOverride: { status: string; notice: string } }>(
        officer2,
        `mutation($id: ID!) { approveBudgetOverride(id: $id) { status notice } }`,
        { id: ra },
      );
      const rejected = await gql<{ rejectBudgetOverride: { status: string; notice: string } }>(
        officer,
        `mutation($id: ID!) { rejectBudgetOverride(id: $id, reason: "warrant does not cover this dataset") { status notice } }`,
        { id: rb },
      );
      say(`override for ${a}: ${approved.approveBudgetOverride.status}; for ${b}: ${rejected.rejectBudgetOverride.status}`);
      say(
        `after the top-up ${a} may spend again: ${(await spend(a, 100)).spendPrivacyBudget.granted}; ${b} may not: ${!(await spend(b, 100)).spendPrivacyBudget.granted}`,
      );
      await new Promise((r) => setTimeout(r, 500));
      stop();
      await ws.dispose();

      say('\nnotices:');
      for (const al of alerts.slice(-2)) say(`--- alert #${al.seq}\n${al.notice}`);
      say(`--- override ${a}\n${approved.approveBudgetOverride.notice}\n--- override ${b}\n${rejected.rejectBudgetOverride.notice}`);

      const { ledger } = await gql<{ ledger: { seq: number; kind: string; actor: string; payload: { tenantId?: string } }[] }>(
        compliance,
        `{ ledger(first: 1000, after: 0) { seq kind actor payload } }`,
      );
      say('ledger entries:');
      for (const e of ledger.filter((x) => x.kind.startsWith('budget.') && (x.payload.tenantId === a || x.payload.tenantId === b)))
        say(`  #${e.seq} ${e.kind} by ${e.actor}`);

      const { privacyBudgets } = await gql<{
        privacyBudgets: { tenantId: string; epsilonLimit: number; epsilonGranted: number; epsilonSpent: number }[];
      }>(compliance, `{ privacyBudgets { tenantId epsilonLimit epsilonGranted epsilonSpent } }`);
      let ok = true;
      for (const w of privacyBudgets.filter((x) => x.tenantId === a || x.tenantId === b)) {
        const fits = w.epsilonSpent <= w.epsilonLimit + w.epsilonGranted;
        ok &&= fits;
        say(
          `check ${w.tenantId}: spent ${w.epsilonSpent} ≤ limit ${w.epsilonLimit} + approved ${w.epsilonGranted}: ${fits ? 'yes' : 'NO'}`,
        );
      }
      if (!ok) throw new Error('a window spent more than its limit plus approved overrides');
      // A burst of queries projects exhaustion early unless the window is about to end, so whether
      // forecasts come depends on the time of day: they are counted apart from the thresholds.
      const forecasts = alerts.filter((x) => x.kind === 'EXHAUSTION_FORECAST').length;
      say(`no unapproved overage; ${alerts.length - forecasts} threshold alerts and ${forecasts} exhaustion forecasts received live`);
      if (opts.compare) await compare({ officer, engine, say, tenants: compareTenants, limit, delta, query });
    },
  );

/** What a BASIC engine declares for one query: its own ε (a Gaussian's at δ, as it is usually quoted). */
const basicEpsilonOf = (query: MechanismEvent, delta: number): number =>
  microOfUnits(account('BASIC', delta, SERVER_ORDERS, [{ ...query, count: 1 }]).units ?? 0n) / 1e6;

/** How many runs of `query` the accountant allows under `composition` at (limit, δ): the server's arithmetic. */
function allowed(composition: Composition, query: MechanismEvent, limitMicro: number, delta: number): number {
  if (composition === 'BASIC') {
    const each = microOfUnits(account('BASIC', delta, SERVER_ORDERS, [{ ...query, count: 1 }]).units ?? 0n);
    return each > 0 ? Math.floor(limitMicro / each) : Infinity;
  }
  let n = 0;
  for (;;) {
    const units = account(composition, delta, SERVER_ORDERS, [{ ...query, count: n + 1 }]).units;
    if (units === null || microOfUnits(units) > limitMicro || n >= 100_000) return n;
    n++;
  }
}

/**
 * The same workload under the three compositions, side by side: one tenant per composition with
 * the same (ε, δ), the same query spent until the server refuses it. The server's count must
 * equal the accountant's (same code), and RDP and zCDP let a Gaussian workload run more queries.
 */
async function compare(p: {
  officer: GqlTarget;
  engine: GqlTarget;
  say: (s: string) => void;
  tenants: string[];
  limit: number;
  delta: number;
  query: MechanismEvent;
}): Promise<void> {
  const { say } = p;
  const limitMicro = Math.floor(p.limit * 1e6);
  const declared = { ...p.query, count: 1 } as Record<string, unknown>;
  if (declared.mechanism === 'zcdp') {
    declared.mechanism = 'gaussian';
  }
  if (declared.mechanism === 'pure') declared.mechanism = 'ε-DP';
  say(`\nside by side: the query ${JSON.stringify(declared)} under (ε ${p.limit}, δ ${p.delta})`);
  say('composition  allowed by the accountant  granted by the server  ε reported');
  const rows: { composition: Composition; predicted: number; granted: number }[] = [];
  for (const [i, composition] of COMPOSITIONS.entries()) {
    const tenantId = p.tenants[i] as string;
    await gql(p.officer, `mutation($i: BudgetPolicyInput!) { setBudgetPolicy(input: $i) { tenantId } }`, {
      i: { tenantId, epsilonLimit: p.limit, window: 'DAY', composition, ...(composition === 'BASIC' ? {} : { delta: p.delta }) },
    });
    const predicted = allowed(composition, p.query, limitMicro, p.delta);
    const input: Record<string, unknown> =
      composition === 'BASIC'
        ? { epsilon: basicEpsilonOf(p.query, p.delta), mechanism: String(declared.mechanism) }
        : Object.fromEntries(Object.entries(declared).filter(([k]) => k !== 'count'));
    let granted = 0;
    let spent = 0;
    for (let n = 0; n <= Math.min(predicted, 10_000); n++) {
      const r = await gql<{ spendPrivacyBudget: { granted: boolean; budget: { epsilonSpent: number } } }>(
        p.engine,
        `mutation($i: SpendInput!) { spendPrivacyBudget(input: $i) { granted budget { epsilonSpent } } }`,
        { i: { tenantId, queryRef: `compare-${n}`, idempotencyKey: `${tenantId}-${n}`, ...input } },
      );
      if (!r.spendPrivacyBudget.granted) break;
      granted++;
      spent = r.spendPrivacyBudget.budget.epsilonSpent;
    }
    rows.push({ composition, predicted, granted });
    say(`${composition.padEnd(11)}  ${String(predicted).padStart(24)}  ${String(granted).padStart(21)}  ${spent}`);
  }
  const basic = rows[0]?.granted ?? 0;
  for (const r of rows.slice(1)) say(`${r.composition} allows ${basic ? (r.granted / basic).toFixed(2) : '∞'}× the queries of BASIC`);
  if (rows.some((r) => r.predicted !== r.granted))
    throw new Error('the server granted a different number of queries than the accountant allows');
}

await runCli(program);
