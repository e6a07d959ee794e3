import { badInput } from '../errors.js';
import { inDateRange } from '../input.js';
import { isUuid } from '../util/ids.js';

/** Opaque keyset cursor: (collectedAt, id) of the last item, base64url JSON. */
export interface EvidenceCursor {
  collectedAt: Date;
  id: string;
}


export function encodeCursor(c: EvidenceCursor): string {
  return Buffer.from(JSON.stringify([c.collectedAt.toISOString(), c.id])).toString('base64url');
}

export function decodeCursor(s: string): EvidenceCursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && isUuid(v[1])) {
      const at = new Date(v[0]);
      // A forged cursor's date beyond what PostgreSQL or the API accepts is not a cursor of ours.
      if (inDateRange(at)) return { collectedAt: at, id: v[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw badInput('argument "after" is not a cursor returned by this API', { argument: 'after' });
}
