import WebSocket from 'ws';

export interface WsPayload {
  data?: unknown;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export interface WsSession {
  /** Every `next` payload so far, in order. */
  readonly events: WsPayload[];
  /** Resolves once `count` events arrived (rejects after `timeoutMs`). */
  next(count: number, timeoutMs?: number): Promise<WsPayload[]>;
  /** Resolves when the server closes the socket, with its code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves when the server acknowledged connection_init. */
  acked: Promise<void>;
  close(): void;
}

/**
 * One subscription over graphql-transport-ws, by hand: unlike graphql-ws's client it keeps every
 * payload (errors included) and reports the close code the server chose.
 */
export function subscribeWs(
  httpUrl: string,
  token: string | null,
  query: string,
  variables: Record<string, unknown> = {},
  /** More connection_init payload (e.g. a W3C traceparent). */
  init: Record<string, string> = {},
): WsSession {
  const socket = new WebSocket(httpUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const events: WsPayload[] = [];
  const waiters: (() => void)[] = [];
  let ackedResolve: () => void = () => undefined;
  const acked = new Promise<void>((r) => (ackedResolve = r));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') })),
  );
  socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { ...init, ...(token ? { authorization: `Bearer ${token}` } : {}) } })));
  socket.on('message', (raw: Buffer) => {
    const msg = JSON.parse(raw.toString('utf8')) as { type: string; payload?: unknown };
    if (msg.type === 'connection_ack') {
      ackedResolve();
      socket.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query, variables } }));
    } else if (msg.type === 'next') {
      events.push(msg.payload as WsPayload);
      for (const w of waiters.splice(0)) w();
    } else if (msg.type === 'error') {
      events.push({ errors: msg.payload as WsPayload['errors'] });
      for (const w of waiters.splice(0)) w();
    } else if (msg.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
  });
  socket.on('error', () => undefined);
  return {
    events,
    acked,
    closed,
    next(count, timeoutMs = 20_000) {
      return new Promise<WsPayload[]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out with ${events.length}/${count} events: ${JSON.stringify(events)}`)), timeoutMs);
        const check = () => {
          if (events.length >= count) {
            clearTimeout(timer);
            resolve(events.slice(0, count));
          } else waiters.push(check);
        };
        check();
      });
    },
    close: () => socket.close(),
  };
}
