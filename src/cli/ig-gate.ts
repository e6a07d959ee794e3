import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Command } from 'commander';
import type { AttestationPolicy } from '../attestations/policy.js';
import { parseSubject } from '../attestations/provenance.js';
import type { StatementSubject } from '../signing/statement.js';
import type { DigestAlgorithm } from '../signing/types.js';
import { gql, targetFrom } from './gql-client.js';
import { runCli } from './run.js';
import { parseJsonInput } from '../util/json-input.js';

/** A gate that said no: exit 1. Anything else that goes wrong (usage, files, server) is 2. */
class Blocked extends Error {}

const program = new Command('ig-gate').description(
  'CI gates: refuse a release whose subjects lack a valid attestation (exit 0 allowed, 1 blocked, 2 usage or error)',
);

interface Coverage {
  release: {
    attestationCoverage: {
      subjects: number;
      attested: number;
      missing: { name: string; digest: string }[];
      invalid: { subjectDigest: string; failureReason: string | null }[];
    };
  } | null;
}

/** The subjects of a subjects file: one NAME@ALG:HEX per line. */
async function subjectsOf(file: string): Promise<StatementSubject[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map(parseSubject);
}

/** Artifacts given as files (e.g. Black-Cell bundles): subject = file name and sha256; their provenance beside them is a candidate. */
async function artifactSubjects(files: string[]): Promise<{ subjects: StatementSubject[]; provenance: string[] }> {
  const subjects: StatementSubject[] = [];
  const provenance: string[] = [];
  for (const f of files) {
    const hex = createHash('sha256')
      .update(await readFile(f))
      .digest('hex');
    subjects.push({ name: basename(f), digest: { sha256: hex } });
    provenance.push(`${f}.provenance.sigstore.json`);
  }
  return { subjects, provenance };
}

/** Offline: each subject must have a bundle (in DIR, or given as files) that verifies against the policy. */
async function offlineGate(
  dir: string | undefined,
  bundleFiles: string[],
  subjects: StatementSubject[],
  policy: AttestationPolicy,
): Promise<string[]> {
  const [{ verifyAgainstPolicy }, { MAX_BUNDLE_BYTES }] = await Promise.all([
    import('../attestations/policy.js'),
    import('../signing/verify.js'),
  ]);
  const bundles: { file: string; json: unknown }[] = [];
  const paths = [
    ...(dir
      ? (await readdir(dir))
          .filter((f) => f.endsWith('.json'))
          .sort()
          .map((f) => join(dir, f))
      : []),
    ...bundleFiles,
  ];
  for (const path of paths) {
    let text: Buffer;
    try {
      text = await readFile(path);
    } catch {
      continue; // An artifact without provenance beside it: reported as missing below.
    }
    bundles.push({ file: basename(path), json: text.length > MAX_BUNDLE_BYTES ? text : parseJsonInput(text.toString('utf8'), path) });
  }
  const problems: string[] = [];
  for (const s of subjects) {
    const [alg, hex] = Object.entries(s.digest)[0] as [DigestAlgorithm, string];
    const failures: string[] = [];
    let ok = false;
    for (const b of bundles) {
      const r = await verifyAgainstPolicy(b.json, { alg, hex }, policy);
      if (r.ok && r.kind === 'attestation') {
        ok = true;
        process.stdout.write(`ok       ${s.name} ${alg}:${hex} (${b.file}, signed by ${r.signerIdentity})\n`);
        break;
      }
      if (!r.ok && r.reason !== 'SUBJECT_MISMATCH') failures.push(`${b.file}: ${r.reason}: ${r.message}`);
    }
    if (!ok)
      problems.push(
        failures.length
          ? `invalid  ${s.name} ${alg}:${hex}: ${failures.join('; ')}`
          : `missing  ${s.name} ${alg}:${hex}: no attestation names it`,
      );
  }
  return problems;
}

/** Images: each must have, in its registry, an attestation that verifies against the policy and names its digest. */
async function imageGate(refs: string[], policy: AttestationPolicy, plainHttp: boolean): Promise<string[]> {
  const [{ verifyAgainstPolicy }, oci, { registryCredentials }, { cliConfig }] = await Promise.all([
    import('../attestations/policy.js'),
    import('../attestations/oci.js'),
    import('../attestations/registry-auth.js'),
    import('../config.js'),
  ]);
  const problems: string[] = [];
  for (const ref of refs) {
    const image = oci.parseImageRef(ref);
    const client = new oci.RegistryClient(image, {
      ...(plainHttp ? { plainHttp } : {}),
      ...registryCredentials(image.registry, cliConfig()),
    });
    const digest = await client.resolveDigest();
    const hex = digest.slice('sha256:'.length);
    const found = await oci.fetchAttestations(client, digest);
    const failures: string[] = [];
    let ok = false;
    for (const a of found) {
      const r = await verifyAgainstPolicy(a.bundle, { alg: 'sha256', hex }, policy);
      if (r.ok && r.kind === 'attestation') {
        ok = true;
        process.stdout.write(
          `ok       ${ref} ${digest} (${oci.attestationTag(digest)} layer ${a.layerDigest.slice(0, 19)}…, ${r.predicateType}, signed by ${r.signerIdentity})\n`,
        );
        break;
      }
      failures.push(`layer ${a.layerDigest.slice(0, 19)}…: ${r.ok ? 'NOT_ATTESTATION' : `${r.reason}: ${r.message}`}`);
    }
    if (!ok)
      problems.push(
        failures.length
          ? `invalid  ${ref} ${digest}: ${failures.join('; ')}`
          : `missing  ${ref} ${digest}: no attestation in the registry (${oci.attestationTag(digest)})`,
      );
  }
  return problems;
}

const collect = (v: string, prev: string[]) => [...prev, v];

program
  .command('attestations')
  .description('Exit non-zero, naming each subject, when any subject of a release lacks a valid attestation')
  .option('--release <id>', 'check a registered release through the API')
  .option('--url <url>', 'GraphQL endpoint (default $IG_URL or the server npm start runs here)')
  .option('--token <jwt>', 'bearer token (default $IG_TOKEN)')
  .option('--bundles <dir>', 'offline: a directory of Sigstore bundles (*.json)')
  .option('--subjects <file>', 'offline: the release subjects, one NAME@ALG:HEX per line')
  .option('--policy <file>', 'offline: attestation policy (default policy/attestation-policy.json)')
  .option('--key <file>', 'offline: trust exactly this public key instead of the policy signers')
  .option(
    '--artifact <file>',
    'offline: an artifact file (e.g. a Black-Cell bundle); its provenance is FILE.provenance.sigstore.json or in --bundles; repeatable',
    collect,
    [],
  )
  .option(
    '--image <ref>',
    'an image REGISTRY/REPO[:TAG][@sha256:HEX]: its attestations are read from the registry (cosign tag sha256-HEX.att); repeatable',
    collect,
    [],
  )
  .option('--plain-http', 'talk plain HTTP to the registry (default only for loopback registries)')
  .action(
    async (opts: {
      release?: string;
      url?: string;
      token?: string;
      bundles?: string;
      subjects?: string;
      policy?: string;
      key?: string;
      artifact: string[];
      image: string[];
      plainHttp?: boolean;
    }) => {
      let problems: string[];
      const policyOf = async () => {
        const { loadAttestationPolicy } = await import('../attestations/policy.js');
        const base = loadAttestationPolicy(opts.policy);
        return opts.key ? { ...base, signers: [{ name: opts.key, publicKeyPem: await readFile(opts.key, 'utf8') }] } : base;
      };
      if (opts.release) {
        const data = await gql<Coverage>(
          targetFrom(opts),
          `query($id: ID!) { release(id: $id) { attestationCoverage { subjects attested missing { name digest } invalid { subjectDigest failureReason } } } }`,
          { id: opts.release },
        );
        if (!data.release) throw new Error(`no release ${opts.release}`);
        const c = data.release.attestationCoverage;
        const invalid = new Map(c.invalid.map((i) => [i.subjectDigest, i.failureReason]));
        problems = c.missing.map((m) =>
          invalid.has(m.digest) ? `invalid  ${m.name} ${m.digest}: ${invalid.get(m.digest)}` : `missing  ${m.name} ${m.digest}`,
        );
        process.stdout.write(`release ${opts.release}: ${c.attested}/${c.subjects} subjects attested\n`);
      } else if (opts.image.length > 0) {
        problems = await imageGate(opts.image, await policyOf(), opts.plainHttp === true);
      } else if ((opts.bundles && opts.subjects) || opts.artifact.length > 0) {
        // The Sigstore verifier loads only for an offline gate, not for `--help` or the API gates.
        const fromFiles = await artifactSubjects(opts.artifact);
        const subjects = [...(opts.subjects ? await subjectsOf(opts.subjects) : []), ...fromFiles.subjects];
        problems = await offlineGate(opts.bundles, fromFiles.provenance, subjects, await policyOf());
      } else {
        throw new Error('pass --release ID, --image REF, --artifact FILE, or --bundles DIR with --subjects FILE');
      }
      for (const p of problems) process.stdout.write(`${p}\n`);
      if (problems.length) throw new Blocked(`${problems.length} subject(s) without a valid attestation: promotion blocked`);
    },
  );

interface Decision {
  promoteRelease: {
    allowed: boolean;
    score: number;
    threshold: number;
    reasons: string[];
    ledgerSeq: number;
    policyDigest: string;
    vsa: unknown;
  };
}

program
  .command('promote')
  .description('Ask for promotion of a release; exits non-zero, with every reason, when it is blocked')
  .requiredOption('--release <id>', 'the release')
  .option('--url <url>', 'GraphQL endpoint (default $IG_URL or the server npm start runs here)')
  .option('--token <jwt>', 'bearer token of the ci role (default $IG_TOKEN)')
  .option('--vsa-out <file>', 'write the signed Verification Summary Attestation (Sigstore bundle) here')
  .action(async (opts: { release: string; url?: string; token?: string; vsaOut?: string }) => {
    const { promoteRelease: d } = await gql<Decision>(
      targetFrom(opts),
      `mutation($id: ID!) { promoteRelease(releaseId: $id) { allowed score threshold reasons ledgerSeq policyDigest vsa } }`,
      { id: opts.release },
    );
    if (opts.vsaOut) await writeFile(opts.vsaOut, `${JSON.stringify(d.vsa, null, 2)}\n`);
    process.stdout.write(
      `release ${opts.release}: score ${d.score} (threshold ${d.threshold}), ${d.allowed ? 'ALLOWED' : 'BLOCKED'}; ledger entry ${d.ledgerSeq}\n`,
    );
    for (const r of d.reasons) process.stdout.write(`  - ${r}\n`);
    if (!d.allowed) throw new Blocked(`promotion of ${opts.release} blocked: ${d.reasons.length} reason(s)`);
  });

interface Cards {
  scorecards: {
    serviceId: string | null;
    team: string | null;
    score: number;
    threshold: number;
    passing: boolean;
    weakestServiceId: string | null;
    components: { name: string; value: number }[];
  }[];
}

const csvCell = (v: unknown) => {
  const t = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
};

program
  .command('scorecard')
  .description('Export scorecards per service or per team')
  .option('--group-by <g>', 'SERVICE or TEAM', 'SERVICE')
  .option('--format <f>', 'json or csv', 'json')
  .option('--url <url>', 'GraphQL endpoint (default $IG_URL or the server npm start runs here)')
  .option('--token <jwt>', 'bearer token (default $IG_TOKEN)')
  .action(async (opts: { groupBy: string; format: string; url?: string; token?: string }) => {
    const groupBy = opts.groupBy.toUpperCase();
    if (groupBy !== 'SERVICE' && groupBy !== 'TEAM') throw new Error('--group-by must be SERVICE or TEAM');
    if (opts.format !== 'json' && opts.format !== 'csv') throw new Error('--format must be json or csv');
    const { scorecards } = await gql<Cards>(
      targetFrom(opts),
      `query($g: ScorecardGrouping!) { scorecards(groupBy: $g) { serviceId team score threshold passing weakestServiceId components { name value } } }`,
      { g: groupBy },
    );
    if (opts.format === 'json') {
      process.stdout.write(`${JSON.stringify(scorecards, null, 2)}\n`);
      return;
    }
    const names = scorecards[0]?.components.map((c) => c.name) ?? [];
    const header = ['serviceId', 'team', 'score', 'threshold', 'passing', 'weakestServiceId', ...names];
    const lines = scorecards.map((s) =>
      [s.serviceId, s.team, s.score, s.threshold, s.passing, s.weakestServiceId, ...s.components.map((c) => c.value)]
        .map(csvCell)
        .join(','),
    );
    process.stdout.write(`${[header.join(','), ...lines].join('\n')}\n`);
  });

// CI branches on these: 0 allowed, 1 blocked, 2 usage or error.
await runCli(program, process.argv, { failure: (err) => (err instanceof Blocked ? 1 : 2) });
