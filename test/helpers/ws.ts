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
export function collect<T>(client: Client, query: string, variables: Record<string, unknown>, count: number, timeoutMs = 20_000): { done: Promise<T[]>; ready: Promise<void> } {
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
