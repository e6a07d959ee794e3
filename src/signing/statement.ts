import { INTOTO_PAYLOAD_TYPE, type SerializedBundle, type Signer } from './types.js';

/** in-toto Statement shapes (v1, and v0.1 which is still in the wild, e.g. npm's publish attestations). */
export const STATEMENT_TYPE_V1 = 'https://in-toto.io/Statement/v1';
export const STATEMENT_TYPE_V01 = 'https://in-toto.io/Statement/v0.1';
export const STATEMENT_TYPES: readonly string[] = [STATEMENT_TYPE_V1, STATEMENT_TYPE_V01];

/** An in-toto ResourceDescriptor as used for subjects: a name and one or more digests. */
export interface StatementSubject {
  name?: string;
  digest: Record<string, string>;
}

export interface InTotoStatement {
  _type: string;
  subject: StatementSubject[];
  predicateType: string;
  predicate?: unknown;
}

export type StatementCheck = { ok: true; statement: InTotoStatement } | { ok: false; reason: 'STATEMENT_TYPE'; message: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks that `value` is an in-toto Statement we understand: a known `_type`, at least one subject,
 * every subject with at least one string digest, and a string predicateType. Returns it typed.
 */
export function checkStatement(value: unknown): StatementCheck {
  const fail = (message: string): StatementCheck => ({ ok: false, reason: 'STATEMENT_TYPE', message });
  if (!isRecord(value)) return fail('payload is not a JSON object');
  const type = value._type;
  if (typeof type !== 'string' || !STATEMENT_TYPES.includes(type)) {
    return fail(`_type ${JSON.stringify(type)} is not an in-toto Statement (${STATEMENT_TYPES.join(' or ')})`);
  }
  const subject = value.subject;
  if (!Array.isArray(subject) || subject.length === 0) return fail('statement has no subject');
  const subjects: StatementSubject[] = [];
  for (const [i, s] of subject.entries()) {
    if (!isRecord(s) || !isRecord(s.digest)) return fail(`subject ${i} has no digest`);
    const digest: Record<string, string> = {};
    for (const [alg, hex] of Object.entries(s.digest)) {
      if (typeof hex !== 'string') return fail(`subject ${i} digest ${alg} is not a string`);
      digest[alg] = hex;
    }
    if (Object.keys(digest).length === 0) return fail(`subject ${i} has an empty digest`);
    if (s.name !== undefined && typeof s.name !== 'string') return fail(`subject ${i} name is not a string`);
    subjects.push({ ...(typeof s.name === 'string' ? { name: s.name } : {}), digest });
  }
  if (typeof value.predicateType !== 'string' || value.predicateType === '') return fail('statement has no predicateType');
  return {
    ok: true,
    statement: { ...value, _type: type, subject: subjects, predicateType: value.predicateType } as InTotoStatement,
  };
}

/** The builder id of an SLSA provenance predicate: v1 `runDetails.builder.id`, v0.2 `builder.id`. */
export function builderIdOf(statement: InTotoStatement): string | undefined {
  const p = statement.predicate;
  if (!isRecord(p)) return undefined;
  const run = p.runDetails;
  if (isRecord(run) && isRecord(run.builder) && typeof run.builder.id === 'string') return run.builder.id;
  if (isRecord(p.builder) && typeof p.builder.id === 'string') return p.builder.id;
  return undefined;
}

/**
 * Signs an in-toto Statement as a DSSE envelope (in a Sigstore bundle): the one way this code base
 * turns a statement into an attestation, so every attestation's payload is serialized alike.
 */
export function signStatement(signer: Signer, statement: InTotoStatement): Promise<SerializedBundle> {
  return signer.sign(Buffer.from(JSON.stringify(statement), 'utf8'), INTOTO_PAYLOAD_TYPE);
}
