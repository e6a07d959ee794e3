import { startCoreSubgraph, type CoreSubgraph } from '../../src/gateway/core-subgraph.js';
import { startGateway, type RunningGateway } from '../../src/gateway/gateway.js';

export interface TestGateway {
  gateway: RunningGateway;
  core: CoreSubgraph;
  url: string;
  close(): Promise<void>;
}

/** Hive Gateway (src/gateway) on a free loopback port in front of `subgraphUrl` and a stand-in core of its own. */
export async function startTestGateway(subgraphUrl: string, core?: CoreSubgraph): Promise<TestGateway> {
  const ownCore = core ?? (await startCoreSubgraph({ host: '127.0.0.1', port: 0 }));
  const gateway = await startGateway({ host: '127.0.0.1', port: 0, subgraphUrl, coreUrl: ownCore.url, composeTimeoutMs: 10_000 });
  return {
    gateway,
    core: ownCore,
    url: gateway.url,
    async close() {
      await gateway.close();
      if (!core) await ownCore.close();
    },
  };
}

export interface GqlOutcome<T> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } & Record<string, unknown> }[];
}

/** POSTs an operation to a GraphQL endpoint with a bearer token (null: none). */
export async function post<T>(url: string, token: string | null, body: Record<string, unknown>): Promise<GqlOutcome<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: Omit<GqlOutcome<T>, 'status'>;
  try {
    json = JSON.parse(text) as Omit<GqlOutcome<T>, 'status'>;
  } catch {
    throw new Error(`${url} answered ${res.status} with non-JSON: ${text.slice(0, 200)}`);
  }
  return { ...json, status: res.status };
}
