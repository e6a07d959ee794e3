import { sql as q, type SQL } from 'drizzle-orm';
import type { Sql } from 'postgres';

/** Whatever runs a statement: a drizzle database or transaction. */
export interface Executor {
  execute(query: SQL): PromiseLike<unknown>;
}

/**
 * Fan-out of "something new happened" across replicas through PostgreSQL LISTEN/NOTIFY.
 * A notification carries only the channel (and a sequence number for logs); the events are read
 * from their table by sequence number (LiveFeed below), so a missed or coalesced notification
 * costs nothing, and a reconnecting subscriber catches up from its last seq.
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

/** Events read per query, by the shared reader and by a subscriber catching up. */
export const FEED_PAGE = 100;

/**
 * A subscriber's bound on events handed to it but not yet consumed; past it they are dropped and
 * the subscriber reads them again from the table, so a slow client costs rows, not memory.
 */
const MAX_QUEUED = 1000;

export interface LiveFeedOptions<T> {
  pubsub: Pick<PgPubSub, 'subscribe'>;
  channel: string;
  /** Every event (all tenants, all filters) with seq greater than `seq`, oldest first, at most `first`. */
  fetchAfter(seq: number, first: number): Promise<T[]>;
  /** The current head: the greatest seq stored. */
  headSeq(): Promise<number>;
}

export interface FeedSubscription<T> {
  /** The subscriber's last seen seq, or null for "only new ones". */
  afterSeq: number | null;
  /** This subscriber's events (its tenant scope and filters) after `seq`, oldest first, at most `first`. */
  catchUp(seq: number, first: number): Promise<T[]>;
  /** Whether a new event is this subscriber's: the same filter as `catchUp`, in memory. */
  matches(event: T): boolean;
}

interface Subscriber<T> {
  /** Called once, in turn with the shared reads, with the seq up to which events were handed out. */
  start(head: number): void;
  offer(event: T): void;
  fail(err: unknown): void;
}

/**
 * The live events of one channel in one process: on each notification ONE query reads what is
 * new for everyone, and each subscriber takes what its filter lets through, in seq order; so an
 * event costs one query per process however many subscribe. A subscriber resuming from
 * `afterSeq` first reads what it missed with its own (scoped) query, then continues from the
 * shared stream; events seen both ways are delivered once (seq is the subscriber's cursor).
 */
export class LiveFeed<T extends { seq: number }> {
  private readonly subscribers = new Set<Subscriber<T>>();
  /** Every event up to this seq has been handed out; null while unknown (no subscriber yet, or none since a notification). */
  private head: number | null = null;
  private listening: Promise<unknown> | null = null;
  /** A notification arrived that no read has covered yet. */
  private dirty = false;
  /** Reads of the head and of new events run one at a time, in the order asked. */
  private work: Promise<void> = Promise.resolve();

  constructor(private readonly opts: LiveFeedOptions<T>) {}

  private serially(fn: () => Promise<void>): Promise<void> {
    const run = this.work.then(fn);
    this.work = run.catch(() => undefined);
    return run;
  }

  private readonly notified = () => {
    if (this.dirty) return; // a read is already queued and will see this event
    this.dirty = true;
    void this.serially(() => this.drain());
  };

  private async drain(): Promise<void> {
    this.dirty = false;
    if (this.subscribers.size === 0 || this.head === null) {
      // Nobody to tell: the next subscriber reads the head afresh.
      this.head = null;
      return;
    }
    try {
      for (;;) {
        const page = await this.opts.fetchAfter(this.head, FEED_PAGE);
        for (const event of page) for (const s of this.subscribers) s.offer(event);
        this.head = page.at(-1)?.seq ?? this.head;
        if (page.length < FEED_PAGE) return;
      }
    } catch (err) {
      // Every subscriber would have met the same failure reading on its own: each ends with it
      // (and resumes from its last seq when the client resubscribes).
      for (const s of this.subscribers) s.fail(err);
      this.subscribers.clear();
      this.head = null;
    }
  }

  private async join(s: Subscriber<T>): Promise<void> {
    // LISTEN before the head is read, so nothing committed in between is missed.
    const listening = (this.listening ??= this.opts.pubsub.subscribe(this.opts.channel, this.notified));
    await listening.catch((err: unknown) => {
      if (this.listening === listening) this.listening = null; // the next subscriber tries again
      throw err;
    });
    await this.serially(async () => {
      this.head ??= await this.opts.headSeq();
      s.start(this.head);
      this.subscribers.add(s);
    });
  }

  /**
   * An async iterator of the subscriber's events in seq order. Written by hand rather than as an
   * async generator so that `return()` (the client unsubscribing) ends one that is waiting.
   */
  subscribe(sub: FeedSubscription<T>): AsyncIterableIterator<T> {
    let last = sub.afterSeq ?? 0;
    /** Read from the table while catching up: delivered before anything queued. */
    let fromTable: T[] = [];
    /** Handed out by the shared reader; may repeat what the catch-up read. */
    let queued: T[] = [];
    /** Events after `last` may be stored that neither list holds: read the table. */
    let behind = false;
    let done = false;
    let failure: { err: unknown } | null = null;
    let wakeUp: (() => void) | null = null;
    const wake = () => {
      const w = wakeUp;
      wakeUp = null;
      w?.();
    };
    const self: Subscriber<T> = {
      start(head) {
        if (sub.afterSeq === null) last = head;
        else behind = sub.afterSeq < head;
      },
      offer(event) {
        if (done || !sub.matches(event)) return;
        if (queued.length >= MAX_QUEUED) {
          queued = [];
          behind = true;
        }
        queued.push(event);
        wake();
      },
      fail(err) {
        failure = { err };
        wake();
      },
    };
    const joined = this.join(self);
    const finish = async () => {
      done = true;
      wake();
      await joined.catch(() => undefined);
      this.subscribers.delete(self);
    };
    const take = (list: T[]): T | undefined => {
      for (let e = list.shift(); e; e = list.shift()) if (e.seq > last) return e; // else delivered the other way
      return undefined;
    };
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      next: async (): Promise<IteratorResult<T>> => {
        await joined;
        while (!done) {
          if (failure) {
            done = true;
            throw failure.err;
          }
          const event = take(fromTable) ?? (behind ? undefined : take(queued));
          if (event) {
            last = event.seq;
            return { value: event, done: false };
          }
          if (behind) {
            try {
              fromTable = await sub.catchUp(last, FEED_PAGE);
            } catch (err) {
              await finish(); // a consumer need not call return() after a failed next(): leave the feed now
              throw err;
            }
            behind = fromTable.length === FEED_PAGE;
            continue;
          }
          await new Promise<void>((r) => (wakeUp = r));
        }
        return { value: undefined, done: true };
      },
      return: async (): Promise<IteratorResult<T>> => {
        await finish();
        return { value: undefined, done: true };
      },
      throw: async (err: unknown): Promise<IteratorResult<T>> => {
        await finish();
        throw err;
      },
    };
  }
}
