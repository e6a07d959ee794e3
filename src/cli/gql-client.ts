import { cliConfig, serverUrl } from '../config.js';

/** A minimal GraphQL-over-HTTP client for the CLIs that talk to a running server. */
export interface GqlTarget {
  url: string;
  token: string;
}

export function targetFrom(opts: { url?: string; token?: string }): GqlTarget {
  const url = opts.url ?? serverUrl(cliConfig());
  const token = opts.token ?? process.env.IG_TOKEN;
  if (!token) throw new Error('no token: pass --token or set IG_TOKEN (npm run token -- --role …)');
  return { url, token };
}

export async function gql<T>(target: GqlTarget, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    throw new Error(
      `cannot reach ${target.url}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`,
      { cause: err },
    );
  }
  const body = (await res.json().catch(() => ({}))) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) {
    const e = body.errors[0];
    throw new Error(`${e?.extensions?.code ?? 'ERROR'}: ${e?.message ?? 'request failed'}`);
  }
  if (!res.ok || body.data === undefined) throw new Error(`${target.url} answered HTTP ${res.status}`);
  return body.data;
}
