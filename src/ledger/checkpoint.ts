import { createHash, createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';

/**
 * Checkpoints in the C2SP tlog-checkpoint format, signed as C2SP signed notes. Pure, so the
 * CLI and any auditor verify them without the server:
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n[extension lines]\n\n— <key name> base64(key id || signature)\n
 *
 * The key name is the origin. An Ed25519 key signs with signature type 0x01, key id =
 * SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4]; an ECDSA P-256 key (the server's
 * default) with type 0x02, key id = SHA-256(SPKI DER)[:4], signature = DER ECDSA over SHA-256 of
 * the note text (as c2sp.org/signed-note assigns). Witness cosignatures are further signature
 * lines from other keys: docs/ledger.md.
 */

export type CheckpointFault = 'MALFORMED' | 'WRONG_ORIGIN' | 'BAD_SIGNATURE' | 'UNSIGNED';

export class CheckpointError extends Error {
  constructor(
    readonly fault: CheckpointFault,
    message: string,
  ) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export interface Checkpoint {
  origin: string;
  treeSize: number;
  /** Lowercase hex. */
  rootHash: string;
  /** Extension lines after the root hash, if any. */
  extensions: string[];
}

export interface NoteKey {
  name: string;
  /** 0x01 Ed25519, 0x02 ECDSA. */
  type: 1 | 2;
  keyId: Buffer;
  publicKey: KeyObject;
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function rawEd25519(publicKey: KeyObject): Buffer {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return der.subarray(ED25519_SPKI_PREFIX.length);
}

/** The note key of a public (or private) key under `name`; Ed25519 and ECDSA P-256 only. */
export function noteKey(name: string, key: KeyObject): NoteKey {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  if (!name || /[\s+]/u.test(name)) throw new CheckpointError('MALFORMED', `invalid key name ${JSON.stringify(name)}`);
  if (publicKey.asymmetricKeyType === 'ed25519') {
    const keyId = createHash('sha256')
      .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.from([1]), rawEd25519(publicKey)]))
      .digest()
      .subarray(0, 4);
    return { name, type: 1, keyId, publicKey };
  }
  if (publicKey.asymmetricKeyType === 'ec' && publicKey.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    const keyId = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest().subarray(0, 4);
    return { name, type: 2, keyId, publicKey };
  }
  throw new CheckpointError('MALFORMED', `unsupported key type ${publicKey.asymmetricKeyType ?? '?'} for a note signature`);
}

/**
 * The verifier key string: name+hex(key id)+base64(type || public key), the public key raw for
 * Ed25519 (as golang.org/x/mod/sumdb/note) and SPKI DER for ECDSA.
 */
export function verifierKeyString(k: NoteKey): string {
  const pub = k.type === 1 ? rawEd25519(k.publicKey) : k.publicKey.export({ type: 'spki', format: 'der' });
  return `${k.name}+${k.keyId.toString('hex')}+${Buffer.concat([Buffer.from([k.type]), pub]).toString('base64')}`;
}

/** Parses a verifier key string (see verifierKeyString). */
export function parseVerifierKey(vkey: string): NoteKey {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(vkey.trim());
  if (!m) throw new CheckpointError('MALFORMED', 'not a verifier key (name+keyid+base64key)');
  const bytes = Buffer.from(m[3] as string, 'base64');
  const type = bytes[0];
  let publicKey: KeyObject;
  try {
    publicKey =
      type === 1
        ? createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, bytes.subarray(1)]), format: 'der', type: 'spki' })
        : createPublicKey({ key: bytes.subarray(1), format: 'der', type: 'spki' });
  } catch (err) {
    throw new CheckpointError('MALFORMED', `verifier key: ${err instanceof Error ? err.message : 'bad public key'}`);
  }
  const k = noteKey(m[1] as string, publicKey);
  if (k.keyId.toString('hex') !== m[2]) throw new CheckpointError('MALFORMED', 'verifier key: the key id does not match the key');
  return k;
}

/** The checkpoint body (the signed note's text). */
export function checkpointBody(c: Checkpoint): string {
  if (!c.origin || /\n/.test(c.origin)) throw new CheckpointError('MALFORMED', 'invalid origin');
  return `${c.origin}\n${c.treeSize}\n${Buffer.from(c.rootHash, 'hex').toString('base64')}\n${c.extensions.map((e) => `${e}\n`).join('')}`;
}

/** What signs a note: the server's key pair (KeyPairSigner). */
export interface RawSigner {
  publicKey: KeyObject;
  /** Ed25519 over the bytes, or DER ECDSA over their SHA-256. */
  signRaw(data: Buffer): Buffer;
}

/** Signs a checkpoint: the whole note text, ready to publish. */
export function signCheckpoint(c: Checkpoint, signer: RawSigner): string {
  const text = checkpointBody(c);
  const k = noteKey(c.origin, signer.publicKey);
  const sig = Buffer.concat([k.keyId, signer.signRaw(Buffer.from(text, 'utf8'))]).toString('base64');
  return `${text}\n— ${k.name} ${sig}\n`;
}

/** Adds a signature line of another key (a witness's cosignature, for instance) to a signed note. */
export function addSignatureLine(note: string, line: string): string {
  return `${note}${line.endsWith('\n') ? line : `${line}\n`}`;
}

interface ParsedNote {
  text: string;
  signatures: { name: string; keyId: Buffer; signature: Buffer }[];
}

function parseNote(note: string): ParsedNote {
  if ([...note].some((ch) => ch < ' ' && ch !== '\n')) throw new CheckpointError('MALFORMED', 'a signed note has no control characters but newlines');
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new CheckpointError('MALFORMED', 'not a signed note (no blank line before the signatures)');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  const signatures = lines.map((line) => {
    const m = /^— (\S+) ([A-Za-z0-9+/=]+)$/u.exec(line);
    if (!m) throw new CheckpointError('MALFORMED', `not a signature line: ${JSON.stringify(line.slice(0, 80))}`);
    const bytes = Buffer.from(m[2] as string, 'base64');
    if (bytes.length < 5) throw new CheckpointError('MALFORMED', 'signature too short');
    return { name: m[1] as string, keyId: bytes.subarray(0, 4), signature: bytes.subarray(4) };
  });
  if (signatures.length === 0 || signatures.length > 16) throw new CheckpointError('MALFORMED', 'a signed note has 1 to 16 signatures');
  return { text, signatures };
}

function parseBody(text: string): Checkpoint {
  const lines = text.slice(0, -1).split('\n');
  const [origin, size, root, ...extensions] = lines;
  if (!origin || size === undefined || root === undefined) throw new CheckpointError('MALFORMED', 'a checkpoint has an origin, a tree size and a root hash');
  if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) throw new CheckpointError('MALFORMED', `invalid tree size ${JSON.stringify(size)}`);
  const rootBytes = Buffer.from(root, 'base64');
  if (rootBytes.length !== 32 || rootBytes.toString('base64') !== root) throw new CheckpointError('MALFORMED', 'the root hash is not base64 of 32 bytes');
  return { origin, treeSize: Number(size), rootHash: rootBytes.toString('hex'), extensions };
}

/**
 * Opens a checkpoint: its origin must be `origin`, and the signature of `key` (name and key id
 * match) must verify. Signatures of unknown keys (witnesses not configured) are ignored, as the
 * spec requires; a known key's bad signature rejects the note.
 */
export function openCheckpoint(note: string, opts: { origin: string; key: NoteKey }): Checkpoint {
  const { text, signatures } = parseNote(note);
  const c = parseBody(text);
  if (c.origin !== opts.origin) throw new CheckpointError('WRONG_ORIGIN', `the checkpoint's origin is ${JSON.stringify(c.origin)}, expected ${JSON.stringify(opts.origin)}`);
  const mine = signatures.filter((s) => s.name === opts.key.name && s.keyId.equals(opts.key.keyId));
  if (mine.length === 0) throw new CheckpointError('UNSIGNED', `no signature of ${opts.key.name} (key id ${opts.key.keyId.toString('hex')})`);
  const data = Buffer.from(text, 'utf8');
  for (const s of mine) {
    let ok: boolean;
    try {
      ok = nodeVerify(opts.key.type === 1 ? null : 'sha256', data, opts.key.publicKey, s.signature);
    } catch {
      ok = false; // a malformed DER signature
    }
    if (!ok) throw new CheckpointError('BAD_SIGNATURE', `the signature of ${opts.key.name} does not verify`);
  }
  return c;
}

/** The checkpoint body without checking signatures (to show what a refused note claims). */
export function readCheckpointUnverified(note: string): Checkpoint {
  return parseBody(parseNote(note).text);
}
