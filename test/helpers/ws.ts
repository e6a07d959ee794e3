import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** A graphql-ws client for the test server; `token` null sends no connection_init token. */
export function wsClient(httpUrl: string, token: string | null): Client {
  return createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

/** Collects `count` events of a subscription, then unsubscribes. */
export function collect<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  count: number,
  timeoutMs = 20_000,
): { done: Promise<T[]>; ready: Promise<void> } {
  const events: T[] = [];
  let readyResolve: () => void = () => undefined;
  const ready = new Promise<void>((r) => (readyResolve = r));
  const done = new Promise<T[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out with ${events.length}/${count} events: ${JSON.stringify(events)}`));
    }, timeoutMs);
    const unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (msg) => {
          if (msg.errors) {
            clearTimeout(timer);
            unsubscribe();
            reject(new Error(JSON.stringify(msg.errors)));
            return;
          }
          events.push(msg.data as T);
          if (events.length === count) {
            clearTimeout(timer);
            unsubscribe();
            resolve(events);
          }
        },
        error: (err) => {
          clearTimeout(timer);
          reject(err);
        },
        complete: () => undefined,
      },
    );
    client.on('connected', () => readyResolve());
  });
  return { done, ready };
}

export interface WsOutcome {
  /** `next` payloads (execution results), in order. */
  results: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }[];
  /** The `error` message's errors (refused before execution). */
  errors: { message: string; extensions?: Record<string, unknown> }[] | null;
  /** Set when the server closed the socket before the operation completed. */
  closed: { code: number; reason: string } | null;
}

/**
 * One operation over graphql-transport-ws, speaking the protocol by hand: the subscribe
 * payload is sent as given (raw JSON text), so a test can send what a JSON.stringify would
 * refuse to build (20,000-deep JSON, for one).
 */
export function wsOnce(httpUrl: string, token: string | null, payloadJson: string, timeoutMs = 20_000): Promise<WsOutcome> {
  const socket = new WebSocket(httpUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const outcome: WsOutcome = { results: [], errors: null, closed: null };
  return new Promise<WsOutcome>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no outcome in ${timeoutMs} ms: ${JSON.stringify(outcome)}`)), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve(outcome);
    };
    socket.on('open', () =>
      socket.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} })),
    );
    socket.on('message', (raw: Buffer) => {
      const msg = JSON.parse(raw.toString('utf8')) as { type: string; payload?: unknown };
      if (msg.type === 'connection_ack') socket.send(`{"type":"subscribe","id":"1","payload":${payloadJson}}`);
      else if (msg.type === 'next') outcome.results.push(msg.payload as WsOutcome['results'][number]);
      else if (msg.type === 'error') {
        outcome.errors = msg.payload as WsOutcome['errors'];
        done();
      } else if (msg.type === 'complete') done();
    });
    socket.on('close', (code: number, reason: Buffer) => {
      outcome.closed = { code, reason: reason.toString('utf8') };
      done();
    });
    socket.on('error', (err: Error) => {
      clearTimeout(timer);
      reject(err);
    });
  }).finally(() => socket.close());
}
