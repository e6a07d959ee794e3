import { open, readFile, writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { generateKeyPair, KEY_ALGORITHMS, type KeyAlgorithm } from '../signing/keys.js';
import { INTOTO_PAYLOAD_TYPE, parseDigest, type Signer } from '../signing/types.js';
import type { ArtifactInput, VerifyPolicy, VerifyResult } from '../signing/verify.js';
import { runCli } from './run.js';
import { parseJsonInput } from '../util/json-input.js';

// The Sigstore libraries are imported by the commands that use them, so `--help` and the light
// commands start without loading them.
const sigstore = () =>
  Promise.all([
    import('../signing/verify.js'),
    import('../signing/key-signer.js'),
    import('../signing/keyless-signer.js'),
    import('../signing/statement.js'),
  ]).then(([verify, keySigner, keyless, statement]) => ({ ...verify, ...keySigner, ...keyless, ...statement }));

const collect = (v: string, prev: string[]) => [...prev, v];

/**
 * Reads at most `max + 1` bytes, so an oversized (hostile) file is never loaded whole; the verifier
 * sees the extra byte and refuses the input as TOO_LARGE.
 */
async function readCapped(path: string, max: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(max + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, total, buf.length - total, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total === buf.length) break;
    }
    return buf.subarray(0, total);
  } finally {
    await fh.close();
  }
}

async function writeOut(path: string, text: string): Promise<void> {
  if (path === '-') process.stdout.write(text);
  else await writeFile(path, text);
}

const program = new Command('ig-attest').description(
  'Supply-chain attestations: build SLSA provenance, sign it into a Sigstore bundle (key pair or keyless), verify bundles offline',
);

program
  .command('provenance')
  .description('Build an in-toto Statement v1 with an SLSA provenance v1 predicate (GitHub Actions environment fills what flags leave out)')
  .option(
    '--subject <NAME@ALG:HEX>',
    'an artifact, e.g. pkg:npm/x@1.0.0@sha512:…; ALG is sha256, sha384 or sha512; repeatable',
    collect,
    [],
  )
  .option('--builder-id <uri>', 'who ran the build (SLSA runDetails.builder.id)')
  .option('--build-type <uri>', 'how to read the build parameters (SLSA buildDefinition.buildType)')
  .option('--source <URI@REF>', 'the source, e.g. git+https://github.com/org/repo@refs/heads/main')
  .option('--source-commit <sha>', 'the git commit of the source')
  .requiredOption('--out <file>', "where to write the statement ('-' for stdout)")
  .action(
    async (opts: { subject: string[]; builderId?: string; buildType?: string; source?: string; sourceCommit?: string; out: string }) => {
      const { buildProvenance } = await import('../attestations/provenance.js');
      // The CLI, not the library, reads the process environment: buildProvenance takes it as input.
      const statement = buildProvenance(
        {
          subjects: opts.subject,
          ...(opts.builderId ? { builderId: opts.builderId } : {}),
          ...(opts.buildType ? { buildType: opts.buildType } : {}),
          ...(opts.source ? { source: opts.source } : {}),
          ...(opts.sourceCommit ? { sourceCommit: opts.sourceCommit } : {}),
        },
        process.env,
      );
      await writeOut(opts.out, `${JSON.stringify(statement, null, 2)}\n`);
      if (opts.out !== '-')
        process.stdout.write(
          `wrote ${opts.out}: ${statement.subject.length} subject(s), builder ${statement.predicate.runDetails.builder.id}\n`,
        );
    },
  );

program
  .command('keygen')
  .description('Generate a signing key pair: PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub (SPKI PEM)')
  .requiredOption('--out <prefix>', 'path prefix of the two files')
  .addOption(new Option('--algorithm <alg>', 'key type').choices([...KEY_ALGORITHMS]).default('ecdsa-p256'))
  .option('--force', 'overwrite existing files')
  .action(async (opts: { out: string; algorithm: KeyAlgorithm; force?: boolean }) => {
    const k = await generateKeyPair(opts.out, { algorithm: opts.algorithm, overwrite: opts.force === true });
    process.stdout.write(`wrote ${k.privateKeyPath} and ${k.publicKeyPath} (${k.algorithm}); key id ${k.keyId}\n`);
  });

program
  .command('sign')
  .description('Sign an in-toto statement into a Sigstore bundle (DSSE, payloadType application/vnd.in-toto+json)')
  .option('--key <file>', 'a private key from `ig-attest keygen` (PREFIX.key)')
  .option('--keyless', 'Sigstore keyless: Fulcio certificate from an OIDC token, Rekor entry')
  .option('--fulcio-url <url>', 'Fulcio base URL (keyless; default: Sigstore public good)')
  .option('--rekor-url <url>', 'Rekor base URL (keyless; default: Sigstore public good)')
  .option('--identity-token <token>', 'OIDC token (keyless; default: SIGSTORE_ID_TOKEN or the GitHub Actions OIDC token)')
  .requiredOption('--in <file>', 'the statement JSON')
  .requiredOption('--out <file>', "where to write the bundle ('-' for stdout)")
  .action(
    async (opts: {
      key?: string;
      keyless?: boolean;
      fulcioUrl?: string;
      rekorUrl?: string;
      identityToken?: string;
      in: string;
      out: string;
    }) => {
      if ((opts.key === undefined) === (opts.keyless !== true)) throw new Error('give exactly one of --key FILE or --keyless');
      if (opts.key && (opts.fulcioUrl || opts.rekorUrl || opts.identityToken))
        throw new Error('--fulcio-url, --rekor-url and --identity-token go with --keyless');
      const { MAX_BUNDLE_BYTES, checkStatement, KeyPairSigner, KeylessSigner } = await sigstore();
      const payload = await readCapped(opts.in, MAX_BUNDLE_BYTES);
      if (payload.length > MAX_BUNDLE_BYTES) throw new Error(`${opts.in} is larger than ${MAX_BUNDLE_BYTES} bytes`);
      const parsed = parseJsonInput(payload.toString('utf8'), opts.in);
      // Refuse to sign what no verifier would accept: the statement must be well formed first.
      const checked = checkStatement(parsed);
      if (!checked.ok) throw new Error(`${opts.in}: ${checked.message}`);
      const signer: Signer = opts.key
        ? await KeyPairSigner.fromFile(opts.key)
        : new KeylessSigner({
            ...(opts.fulcioUrl ? { fulcioURL: opts.fulcioUrl } : {}),
            ...(opts.rekorUrl ? { rekorURL: opts.rekorUrl } : {}),
            ...(opts.identityToken ? { identityToken: opts.identityToken } : {}),
          });
      const bundle = await signer.sign(payload, INTOTO_PAYLOAD_TYPE);
      await writeOut(opts.out, `${JSON.stringify(bundle)}\n`);
      if (opts.out !== '-') process.stdout.write(`wrote ${opts.out}\n`);
    },
  );

function describe(r: Exclude<VerifyResult, { ok: false }>): string {
  const who = r.signer === 'key' ? `key ${r.signerIdentity}` : `${r.signerIdentity} (issuer ${r.issuer ?? '?'})`;
  const log = r.rekorLogIndex !== undefined ? `, rekor log index ${r.rekorLogIndex}` : '';
  if (r.kind === 'messageSignature')
    return `ok: message signature (a signed blob, as cosign sign-blob makes) over ${r.artifactDigest.alg}:${r.artifactDigest.hex} by ${who}${log}`;
  return `ok: attestation ${r.predicateType} for ${r.subject.name ?? '(unnamed subject)'} by ${who}${r.builderId ? `, builder ${r.builderId}` : ''}${log}`;
}

program
  .command('verify')
  .description(
    'Verify a Sigstore bundle offline against a pinned identity or key: a DSSE attestation or a message signature (cosign sign-blob); exit 0 only when valid',
  )
  .requiredOption('--bundle <file>', 'the bundle JSON')
  .option('--artifact <file>', 'the artifact the attestation must be about')
  .option('--digest <ALG:HEX>', 'the artifact digest instead of the file (sha256, sha384, sha512)')
  .option('--certificate-identity <identity>', 'exact certificate identity (SAN), e.g. a workflow URI')
  .option('--certificate-oidc-issuer <issuer>', 'exact OIDC issuer, e.g. https://token.actions.githubusercontent.com')
  .option('--key <file>', 'PEM public key (for key-pair bundles) instead of an identity')
  .option('--trusted-root <file>', 'trusted root JSON (default: Sigstore public good)')
  .option('--predicate-type <uri>', 'allowed predicate type; repeatable', collect, [])
  .option(
    '--require-attestation',
    'refuse a plain message signature over the artifact (what cosign sign-blob makes): accept only DSSE attestations',
  )
  .option('--allow-message-signature', 'accepted for older scripts: message signatures are verified by default')
  .option('--json', 'print the whole result as JSON')
  .action(
    async (opts: {
      bundle: string;
      artifact?: string;
      digest?: string;
      certificateIdentity?: string;
      certificateOidcIssuer?: string;
      key?: string;
      trustedRoot?: string;
      predicateType: string[];
      requireAttestation?: boolean;
      allowMessageSignature?: boolean;
      json?: boolean;
    }) => {
      if ((opts.artifact === undefined) === (opts.digest === undefined))
        throw new Error('POLICY: give exactly one of --artifact FILE or --digest ALG:HEX');
      const hasIdentity = opts.certificateIdentity !== undefined || opts.certificateOidcIssuer !== undefined;
      if (hasIdentity === (opts.key !== undefined))
        throw new Error('POLICY: pin --certificate-identity with --certificate-oidc-issuer, or --key (one, not both)');
      const { MAX_BUNDLE_BYTES, verifyAttestation } = await sigstore();
      let artifact: ArtifactInput;
      if (opts.artifact !== undefined) artifact = await readFile(opts.artifact);
      else {
        try {
          artifact = { digest: parseDigest(opts.digest ?? '') };
        } catch (err) {
          throw new Error(`POLICY: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
      }
      const common = {
        artifact,
        ...(opts.trustedRoot !== undefined ? { trustedRoot: await readCapped(opts.trustedRoot, MAX_BUNDLE_BYTES) } : {}),
        ...(opts.predicateType.length > 0 ? { allowedPredicateTypes: opts.predicateType } : {}),
        // Both kinds of Sigstore bundle by default; the output names which one verified.
        acceptMessageSignatures: opts.requireAttestation !== true,
      };
      const policy: VerifyPolicy =
        opts.key !== undefined
          ? { ...common, publicKeyPem: await readCapped(opts.key, 64 * 1024) }
          : { ...common, certificateIdentity: opts.certificateIdentity ?? '', certificateIssuer: opts.certificateOidcIssuer ?? '' };
      const result = await verifyAttestation(await readCapped(opts.bundle, MAX_BUNDLE_BYTES), policy);
      if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      if (!result.ok) throw new Error(`${result.reason}: ${result.message}`);
      if (!opts.json) process.stdout.write(`${describe(result)}\n`);
    },
  );

program
  .command('attach')
  .description(
    "Store a signed attestation of an image in the image's registry, where cosign looks (tag sha256-<digest>.att, a DSSE layer); the statement must name the image's digest",
  )
  .requiredOption('--image <ref>', 'REGISTRY/REPO[:TAG][@sha256:HEX]; a tag is resolved to its digest first')
  .option('--bundle <file>', 'the Sigstore bundle to attach (from `ig-attest sign`)')
  .option('--key <file>', 'instead of --bundle: build SLSA provenance for the image and sign it with this key (PREFIX.key)')
  .option('--builder-id <uri>', 'with --key: SLSA builder id')
  .option('--build-type <uri>', 'with --key: SLSA build type')
  .option('--plain-http', 'talk plain HTTP to the registry (default only for loopback registries)')
  .action(async (opts: { image: string; bundle?: string; key?: string; builderId?: string; buildType?: string; plainHttp?: boolean }) => {
    if ((opts.bundle === undefined) === (opts.key === undefined)) throw new Error('give exactly one of --bundle FILE or --key FILE');
    const [oci, { registryCredentials }, { cliConfig }] = await Promise.all([
      import('../attestations/oci.js'),
      import('../attestations/registry-auth.js'),
      import('../config.js'),
    ]);
    const ref = oci.parseImageRef(opts.image);
    const client = new oci.RegistryClient(ref, {
      ...(opts.plainHttp ? { plainHttp: true } : {}),
      ...registryCredentials(ref.registry, cliConfig()),
    });
    const digest = await client.resolveDigest();
    let bundle: unknown;
    if (opts.key) {
      const [{ buildProvenance }, { KeyPairSigner }] = await Promise.all([
        import('../attestations/provenance.js'),
        import('../signing/key-signer.js'),
      ]);
      const statement = buildProvenance(
        {
          subjects: [`${ref.registry}/${ref.repository}@${digest}`],
          ...(opts.builderId ? { builderId: opts.builderId } : {}),
          ...(opts.buildType ? { buildType: opts.buildType } : {}),
        },
        process.env,
      );
      bundle = await (await KeyPairSigner.fromFile(opts.key)).sign(Buffer.from(JSON.stringify(statement)), INTOTO_PAYLOAD_TYPE);
    } else {
      const { MAX_BUNDLE_BYTES } = await sigstore();
      bundle = parseJsonInput((await readCapped(opts.bundle ?? '', MAX_BUNDLE_BYTES)).toString('utf8'), opts.bundle ?? '');
    }
    const statement = statementOfBundle(bundle);
    const hex = digest.slice('sha256:'.length);
    // Attaching a statement about another artifact would only plant an attestation no gate accepts.
    if (!statement.subjects.some((s) => s.digest.sha256 === hex))
      throw new Error(
        `SUBJECT_MISMATCH: the statement does not name ${digest} (it names ${statement.subjects.map((s) => Object.values(s.digest)[0]).join(', ') || 'nothing'})`,
      );
    const r = await oci.attachAttestation(client, bundle as Parameters<typeof oci.attachAttestation>[1], statement.predicateType);
    process.stdout.write(
      `attached ${statement.predicateType} to ${ref.registry}/${ref.repository}@${r.imageDigest}: ${ref.registry}/${ref.repository}:${r.tag} (manifest ${r.manifestDigest}, ${r.layers} attestation(s))\n`,
    );
  });

/** The statement a DSSE bundle carries (its predicate type and subjects), or an error naming what is wrong. */
function statementOfBundle(bundle: unknown): { predicateType: string; subjects: { name: string; digest: Record<string, string> }[] } {
  const env = (bundle as { dsseEnvelope?: { payload?: unknown; payloadType?: unknown } } | null)?.dsseEnvelope;
  if (!env || typeof env.payload !== 'string' || env.payloadType !== INTOTO_PAYLOAD_TYPE)
    throw new Error('NOT_ATTESTATION: the bundle carries no in-toto DSSE envelope');
  const s = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as { predicateType?: unknown; subject?: unknown };
  if (typeof s.predicateType !== 'string' || !Array.isArray(s.subject)) throw new Error('STATEMENT: not an in-toto statement');
  return { predicateType: s.predicateType, subjects: s.subject as { name: string; digest: Record<string, string> }[] };
}

await runCli(program);
