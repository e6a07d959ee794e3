import type { KeyObject } from 'node:crypto';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial, type TrustMaterial } from '@sigstore/verify';
import publicGoodJson from './trusted_root.public-good.json' with { type: 'json' };

/** The Sigstore public-good trusted root, as shipped in @sigstore/tuf's seeds (a committed copy). */
export const PUBLIC_GOOD_TRUSTED_ROOT: unknown = publicGoodJson;

const TRUSTED_ROOT_MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.trustedroot(\.v0\.\d+)?\+json(;version=0\.\d+)?$/;

export class TrustRootError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrustRootError';
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `obj.validFor.start` as a non-empty string, or undefined. */
function startOf(validFor: unknown): unknown {
  return isRecord(validFor) ? validFor.start : undefined;
}

/**
 * Checks what @sigstore/verify does not: every authority's validity window has a start. The
 * library maps a missing start to the epoch, so a trusted root with an unbounded key would be
 * accepted as if trusted forever (conformance case trust-root-tlog-missing-validity-start_fail).
 */
function assertWellFormed(root: unknown): asserts root is Record<string, unknown> {
  if (!isRecord(root)) throw new TrustRootError('trusted root is not a JSON object');
  if (typeof root.mediaType !== 'string' || !TRUSTED_ROOT_MEDIA_TYPE.test(root.mediaType)) {
    throw new TrustRootError(`trusted root has an unknown mediaType ${JSON.stringify(root.mediaType)}`);
  }
  const list = (name: string): unknown[] => {
    const v = root[name];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw new TrustRootError(`trusted root ${name} is not an array`);
    return v;
  };
  for (const name of ['tlogs', 'ctlogs']) {
    for (const [i, log] of list(name).entries()) {
      const pk = isRecord(log) ? log.publicKey : undefined;
      const start = startOf(isRecord(pk) ? pk.validFor : undefined);
      if (typeof start !== 'string' || start === '') throw new TrustRootError(`trusted root ${name}[${i}] key has no validFor.start`);
    }
  }
  for (const name of ['certificateAuthorities', 'timestampAuthorities']) {
    for (const [i, ca] of list(name).entries()) {
      const start = startOf(isRecord(ca) ? ca.validFor : undefined);
      if (typeof start !== 'string' || start === '') throw new TrustRootError(`trusted root ${name}[${i}] has no validFor.start`);
    }
  }
}

/** Parses a trusted root (JSON value or text) into the protobuf form; throws TrustRootError. */
export function parseTrustedRoot(json: unknown): TrustedRoot {
  let value = json;
  if (typeof json === 'string' || Buffer.isBuffer(json)) {
    try {
      value = JSON.parse(json.toString());
    } catch (err) {
      throw new TrustRootError('trusted root is not JSON', { cause: err });
    }
  }
  assertWellFormed(value);
  try {
    return TrustedRoot.fromJSON(value);
  } catch (err) {
    throw new TrustRootError(`trusted root does not parse: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

// The public-good root is a constant of the program (not user data): parse it once.
let publicGood: TrustedRoot | undefined;

/**
 * Trust material for @sigstore/verify: the given trusted root (the public-good one by default) and,
 * for key-signed bundles, the one pinned public key. The key is returned whatever the bundle's hint
 * says: the hint is unauthenticated, and the signature check decides.
 */
export function trustMaterialFor(trustedRoot: unknown, publicKey?: KeyObject): TrustMaterial {
  const root = trustedRoot === undefined ? (publicGood ??= parseTrustedRoot(PUBLIC_GOOD_TRUSTED_ROOT)) : parseTrustedRoot(trustedRoot);
  try {
    return toTrustMaterial(
      root,
      publicKey
        ? () => ({ publicKey, validFor: () => true })
        : (hint: string) => {
            throw new TrustRootError(`bundle is signed with key ${JSON.stringify(hint)} but the policy pins no key`);
          },
    );
  } catch (err) {
    if (err instanceof TrustRootError) throw err;
    throw new TrustRootError(`trusted root is unusable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
