import { describe, expect, it } from 'vitest';
import { FEED_PAGE, LiveFeed } from '../../src/pubsub/pg.js';

// The shared reader's bookkeeping, with the table and the notifications in the test's hands so
// that the interleavings a live server only hits by chance happen every time. The same feed over
// PostgreSQL and graphql-ws: test/integration/live-fanout.test.ts.
type Event = { seq: number; tenant: string };

function harness() {
  const table: Event[] = [];
  let notify: () => void = () => undefined;
  let reads = 0;
  const after = (seq: number, first: number, tenant?: string) => table.filter((e) => e.seq > seq && (tenant === undefined || e.tenant === tenant)).slice(0, first);
  const feed = new LiveFeed<Event>({
    pubsub: {
      subscribe: async (_channel, wake) => {
        notify = wake;
        return () => undefined;
      },
    },
    channel: 'test',
    fetchAfter: async (seq, first) => {
      reads++;
      return after(seq, first);
    },
    headSeq: async () => table.at(-1)?.seq ?? 0,
  });
  const publish = (tenant: string) => {
    table.push({ seq: table.length + 1, tenant });
    notify();
  };
  return { table, feed, publish, after, reads: () => reads };
}

const settle = () => new Promise((r) => setTimeout(r, 0));
const take = async (it: AsyncIterator<Event>, n: number) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(((await it.next()).value as Event).seq);
  return out;
};

describe('LiveFeed', () => {
  it('reads each new event once for all subscribers and gives each only what its filter lets through', async () => {
    const h = harness();
    const subs = ['a', 'b', 'a'].map((tenant) => h.feed.subscribe({ afterSeq: null, catchUp: async (s, f) => h.after(s, f, tenant), matches: (e) => e.tenant === tenant }));
    const waiting = subs.map((s, i) => take(s, i === 1 ? 1 : 2));
    await settle();
    h.publish('a');
    h.publish('b');
    await settle();
    h.publish('a');
    expect(await Promise.all(waiting)).toEqual([[1, 3], [2], [1, 3]]);
    // Two notifications coalesced into one read, then one more: never a read per subscriber.
    expect(h.reads()).toBeLessThanOrEqual(3);
    for (const s of subs) await s.return?.();
  });

  it('delivers once, in order, what the catch-up and the shared reader both hand a joining subscriber', async () => {
    const h = harness();
    const watcher = h.feed.subscribe({ afterSeq: null, catchUp: async () => [], matches: () => true });
    const watched = take(watcher, 3);
    await settle();
    h.publish('a');
    h.publish('a');
    await settle();
    // The catch-up read is held until the shared reader has handed out seq 3 as well.
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const joining = h.feed.subscribe({
      afterSeq: 0,
      catchUp: async (s, f) => {
        await held;
        return h.after(s, f);
      },
      matches: () => true,
    });
    const got = take(joining, 4);
    await settle();
    h.publish('a');
    await settle();
    release();
    await settle();
    h.publish('a');
    expect(await got).toEqual([1, 2, 3, 4]);
    expect(await watched).toEqual([1, 2, 3]);
    await joining.return?.();
    await watcher.return?.();
  });

  it('sends a subscriber that falls too far behind back to the table, losing nothing', async () => {
    const h = harness();
    const slow = h.feed.subscribe({ afterSeq: null, catchUp: async (s, f) => h.after(s, f), matches: () => true });
    const first = slow.next();
    await settle();
    // More than a subscriber may hold unread, published while it does not read.
    for (let i = 0; i < 1000 + 2 * FEED_PAGE + 5; i++) h.publish('a');
    await settle();
    const seqs = [((await first).value as Event).seq, ...(await take(slow, h.table.length - 1))];
    expect(seqs).toEqual(h.table.map((e) => e.seq));
    await slow.return?.();
  });
});
