import { Command } from 'commander';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { devSecret } from '../auth/dev-secret.js';
import type { Role } from '../auth/session.js';
import { mintToken } from '../auth/tokens.js';
import { cliConfig, serverUrl } from '../config.js';
import { gql, type GqlTarget } from './gql-client.js';
import { runCli } from './run.js';

const program = new Command('ig-budget').description('Privacy (ε) budget tools');

interface Alert {
  seq: number;
  tenantId: string;
  status: string;
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
  .action(async (opts: { url?: string; tenants: string }) => {
    const c = cliConfig();
    const url = opts.url ?? serverUrl(c);
    if (c.AUTH_JWKS_URL)
      throw new Error('the simulation mints its own tokens: it needs AUTH_JWT_SECRET or the development secret, not a JWKS');
    const secret = c.AUTH_JWT_SECRET ?? (await devSecret(c.DATA_DIR, false));
    const [a, b] = opts.tenants.split(',');
    if (!a || !b) throw new Error('--tenants needs two tenant ids, comma-separated');
    const as = async (sub: string, roles: Role[]): Promise<GqlTarget> => ({
      url,
      token: await mintToken({ secret, sub, roles, tenants: [a, b], issuer: c.AUTH_ISSUER, audience: c.AUTH_AUDIENCE }),
    });
    const officer = await as('olivia@privacy (simulation)', ['privacy_officer']);
    const officer2 = await as('oscar@privacy (simulation)', ['privacy_officer']);
    const compliance = await as('carol@compliance (simulation)', ['compliance']);
    const engine = await as('dp-engine (simulation)', ['dp_engine']);
    const say = (s: string) => process.stdout.write(`${s}\n`);

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
        query: `subscription($after: Int) { budgetAlerts(afterSeq: $after) { seq tenantId status epsilonRemaining notice } }`,
        variables: { after },
      },
      {
        next: (m) => {
          const alert = m.data?.budgetAlerts;
          if (!alert || (alert.tenantId !== a && alert.tenantId !== b)) return;
          alerts.push(alert);
          say(`  ⚑ alert #${alert.seq} ${alert.tenantId}: ${alert.status} (${alert.epsilonRemaining} ε left)`);
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
      gql<{ spendPrivacyBudget: { granted: boolean; denialReason: string | null; budget: { epsilonRemaining: number; status: string } } }>(
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
      say(`check ${w.tenantId}: spent ${w.epsilonSpent} ≤ limit ${w.epsilonLimit} + approved ${w.epsilonGranted}: ${fits ? 'yes' : 'NO'}`);
    }
    if (!ok) throw new Error('a window spent more than its limit plus approved overrides');
    say(`no unapproved overage; ${alerts.length} alerts received live`);
  });

await runCli(program);
