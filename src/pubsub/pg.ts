import { sql as q, type SQL } from 'drizzle-orm';
import type { Sql } from 'postgres';

/** Whatever runs a statement: a drizzle database or transaction. */
export interface Executor {
  execute(query: SQL): PromiseLike<unknown>;
}

/**
 * Fan-out of "something new happened" across replicas through PostgreSQL LISTEN/NOTIFY.
 * A notification carries only the channel (and a sequence number for logs); subscribers read
 * the events themselves from their table by sequence number, so a missed or coalesced
 * notification costs nothing, and a reconnecting subscriber catches up from its last seq.
 * One LISTEN per channel per process (on postgres.js's one listening connection), shared by all
 * its subscribers; a subscriber is also woken when that connection LISTENs again after a drop.
 */
export class PgPubSub {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly listening = new Map<string, Promise<{ unlisten(): Promise<void> }>>();

  constructor(private readonly sql: Sql) {}

  /**
   * Announces `payload` (a seq) on `channel`. Inside a transaction NOTIFY is delivered at
   * commit, so subscribers never read an event that was rolled back.
   */
  static async publish(tx: Executor, channel: string, payload: string | number): Promise<void> {
    await tx.execute(q`select pg_notify(${channel}, ${String(payload)})`);
  }

  /** Registers `wake` for the channel; resolves once LISTEN is in place. Returns an unsubscribe. */
  async subscribe(channel: string, wake: () => void): Promise<() => void> {
    let set = this.waiters.get(channel);
    if (!set) this.waiters.set(channel, (set = new Set()));
    set.add(wake);
    let listen = this.listening.get(channel);
    if (!listen) {
      const wakeAll = () => {
        for (const w of this.waiters.get(channel) ?? []) w();
      };
      let listened = false;
      // postgres.js LISTENs again after its connection dropped; whatever was notified meanwhile
      // is lost, so every subscriber is woken to read for itself (the first LISTEN is no news).
      const relisten = () => {
        if (listened) wakeAll();
        listened = true;
      };
      listen = this.sql.listen(channel, wakeAll, relisten);
      this.listening.set(channel, listen);
    }
    await listen;
    return () => {
      set.delete(wake);
    };
  }

  async close(): Promise<void> {
    for (const l of this.listening.values()) await (await l).unlisten().catch(() => undefined);
    this.listening.clear();
  }
}

export interface LiveEventsOptions<T> {
  pubsub: PgPubSub;
  channel: string;
  /** Events with seq greater than `seq`, oldest first, at most a page. */
  fetchAfter(seq: number): Promise<T[]>;
  /** Where to start: the subscriber's last seen seq, or the current head for "only new ones". */
  startSeq: () => Promise<number>;
}

/**
 * An async iterator of events in seq order: first every stored event after the start, then
 * new ones as notifications arrive. Written by hand rather than as an async generator so that
 * `return()` (the client unsubscribing) ends a subscriber that is waiting for the next event.
 */
export function liveEvents<T extends { seq: number }>(opts: LiveEventsOptions<T>): AsyncIterableIterator<T> {
  let buffer: T[] = [];
  let done = false;
  let pending = true;
  let wakeUp: (() => void) | null = null;
  const wake = () => {
    pending = true;
    const w = wakeUp;
    wakeUp = null;
    w?.();
  };
  // LISTEN before the first read, so nothing committed in between is missed.
  const ready = opts.pubsub.subscribe(opts.channel, wake).then(async (unsubscribe) => ({ unsubscribe, start: await opts.startSeq() }));
  let last: number | null = null;
  const finish = async () => {
    done = true;
    wake();
    (await ready).unsubscribe();
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<T>> {
      const { start } = await ready;
      last ??= start;
      while (!done) {
        const head = buffer.shift();
        if (head) return { value: head, done: false };
        pending = false;
        buffer = await opts.fetchAfter(last);
        const tail = buffer.at(-1);
        if (tail) {
          last = tail.seq;
          continue;
        }
        if (!pending && !done) await new Promise<void>((r) => (wakeUp = r));
      }
      return { value: undefined, done: true };
    },
    async return(): Promise<IteratorResult<T>> {
      await finish();
      return { value: undefined, done: true };
    },
    async throw(err: unknown): Promise<IteratorResult<T>> {
      await finish();
      throw err;
    },
  };
}
