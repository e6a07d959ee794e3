import DataLoader from 'dataloader';

/**
 * A per-request DataLoader over rows fetched by id: one query per tick, results in key order,
 * null for ids that are absent (or not visible to the caller).
 */
export function byIdLoader<Row extends { id: string }>(fetch: (ids: readonly string[]) => Promise<Row[]>): DataLoader<string, Row | null> {
  return new DataLoader<string, Row | null>(async (ids) => {
    const rows = await fetch(ids);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/**
 * Batches keys that carry arguments: keys sharing the same arguments go to `fetch` together
 * (one query per distinct argument set, which is one per `_entities` batch).
 */
export function groupedLoader<Id, Args, Result>(
  fetch: (ids: Id[], args: Args) => Promise<Map<Id, Result>>,
  argsKey: (args: Args) => string,
): DataLoader<{ id: Id; args: Args }, Result, string> {
  return new DataLoader<{ id: Id; args: Args }, Result, string>(
    async (keys) => {
      const groups = new Map<string, { args: Args; ids: Id[] }>();
      for (const k of keys) {
        const g = argsKey(k.args);
        const group = groups.get(g) ?? { args: k.args, ids: [] };
        group.ids.push(k.id);
        groups.set(g, group);
      }
      const results = new Map<string, Map<Id, Result>>();
      await Promise.all(
        [...groups].map(async ([g, { args, ids }]) => {
          results.set(g, await fetch(ids, args));
        }),
      );
      return keys.map((k) => {
        const r = results.get(argsKey(k.args))?.get(k.id);
        return r === undefined ? new Error('loader returned no result') : r;
      });
    },
    { cacheKeyFn: (k) => `${argsKey(k.args)}\u0000${String(k.id)}` },
  );
}
