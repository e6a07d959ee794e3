import { STATEMENT_TYPE_V1, type InTotoStatement, type StatementSubject } from '../signing/statement.js';
import { parseDigest } from '../signing/types.js';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** The build type GitHub Actions workflows use (SLSA github-actions-buildtypes). */
export const GITHUB_WORKFLOW_BUILD_TYPE = 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1';

export interface ProvenanceInput {
  /** `NAME@ALG:HEX` (ALG sha256, sha384 or sha512); NAME may itself contain `@` (e.g. pkg:npm/x@1.0.0). */
  subjects: readonly string[];
  builderId?: string;
  buildType?: string;
  /** `URI@REF`, e.g. `git+https://github.com/org/repo@refs/heads/main`. */
  source?: string;
  /** The source commit, recorded as the resolved dependency's gitCommit digest. */
  sourceCommit?: string;
  /** Free-form build inputs for `externalParameters` (merged over what the environment gives). */
  externalParameters?: Record<string, unknown>;
  invocationId?: string;
}

export interface SlsaProvenanceV1 {
  buildDefinition: {
    buildType: string;
    externalParameters: Record<string, unknown>;
    internalParameters?: Record<string, unknown>;
    resolvedDependencies?: { uri: string; digest?: Record<string, string> }[];
  };
  runDetails: {
    builder: { id: string };
    metadata?: { invocationId?: string };
  };
}

export type ProvenanceStatement = InTotoStatement & { predicateType: typeof SLSA_PROVENANCE_V1; predicate: SlsaProvenanceV1 };

/** Parses `NAME@ALG:HEX`, splitting at the last `@` so package URLs with versions keep their name. */
export function parseSubject(text: string): StatementSubject {
  const at = text.lastIndexOf('@');
  if (at <= 0) throw new Error(`subject "${text}": expected NAME@ALG:HEX`);
  const name = text.slice(0, at);
  const { alg, hex } = parseDigest(text.slice(at + 1));
  return { name, digest: { [alg]: hex } };
}

/** Parses `URI@REF` at the last `@` (a URI may carry user info, a ref never has an `@`). */
export function parseSource(text: string): { uri: string; ref: string } {
  const at = text.lastIndexOf('@');
  const uri = text.slice(0, at);
  const ref = text.slice(at + 1);
  if (at <= 0 || ref === '' || !/^[a-z][a-z0-9+.-]*:/i.test(uri)) throw new Error(`source "${text}": expected URI@REF`);
  return { uri, ref };
}

function absoluteUri(label: string, value: string): string {
  if (!URL.canParse(value)) throw new Error(`${label} "${value}" is not an absolute URI`);
  return value;
}

/** What a GitHub Actions run tells about itself through its default environment variables. */
export function githubActionsInput(
  env: Record<string, string | undefined>,
): Partial<ProvenanceInput> & { internalParameters?: Record<string, unknown> } {
  if (env.GITHUB_ACTIONS !== 'true') return {};
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
  const repo = env.GITHUB_REPOSITORY;
  const ref = env.GITHUB_REF;
  const out: Partial<ProvenanceInput> & { internalParameters?: Record<string, unknown> } = {
    buildType: GITHUB_WORKFLOW_BUILD_TYPE,
    // As GitHub's own (and npm's) provenance: the runner kind is the builder.
    builderId: `https://github.com/actions/runner/${env.RUNNER_ENVIRONMENT === 'self-hosted' ? 'self-hosted' : 'github-hosted'}`,
  };
  if (repo && ref) {
    out.source = `git+${server}/${repo}@${ref}`;
    // GITHUB_WORKFLOW_REF is "owner/repo/.github/workflows/file.yml@refs/…": keep the path only.
    const workflowRef = env.GITHUB_WORKFLOW_REF ?? '';
    const path = workflowRef.startsWith(`${repo}/`) ? workflowRef.slice(repo.length + 1).replace(/@[^@]*$/, '') : undefined;
    out.externalParameters = { workflow: { ref, repository: `${server}/${repo}`, ...(path ? { path } : {}) } };
  }
  if (env.GITHUB_SHA) out.sourceCommit = env.GITHUB_SHA;
  if (repo && env.GITHUB_RUN_ID)
    out.invocationId = `${server}/${repo}/actions/runs/${env.GITHUB_RUN_ID}/attempts/${env.GITHUB_RUN_ATTEMPT ?? '1'}`;
  const github: Record<string, string> = {};
  if (env.GITHUB_EVENT_NAME) github.event_name = env.GITHUB_EVENT_NAME;
  if (env.GITHUB_REPOSITORY_ID) github.repository_id = env.GITHUB_REPOSITORY_ID;
  if (env.GITHUB_REPOSITORY_OWNER_ID) github.repository_owner_id = env.GITHUB_REPOSITORY_OWNER_ID;
  if (Object.keys(github).length > 0) out.internalParameters = { github };
  return out;
}

/**
 * Builds an in-toto Statement v1 with an SLSA provenance v1 predicate. Explicit input wins; the
 * GitHub Actions environment (pass `process.env`, or `{}` outside CI) fills what input leaves out.
 */
export function buildProvenance(input: ProvenanceInput, env: Record<string, string | undefined> = {}): ProvenanceStatement {
  const gha = githubActionsInput(env);
  if (input.subjects.length === 0) throw new Error('at least one subject (NAME@ALG:HEX) is required');
  const subject = input.subjects.map(parseSubject);
  const builderId = input.builderId ?? gha.builderId;
  const buildType = input.buildType ?? gha.buildType;
  if (!builderId) throw new Error('a builder id is required (--builder-id, or run in GitHub Actions)');
  if (!buildType) throw new Error('a build type is required (--build-type, or run in GitHub Actions)');
  const sourceText = input.source ?? gha.source;
  const source = sourceText ? parseSource(sourceText) : undefined;
  const commit = input.sourceCommit ?? (input.source === undefined ? gha.sourceCommit : undefined);
  if (commit !== undefined && !/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(commit))
    throw new Error(`source commit "${commit}" is not a git SHA-1 or SHA-256`);
  const invocationId = input.invocationId ?? gha.invocationId;

  const externalParameters: Record<string, unknown> = {
    ...(gha.externalParameters ?? {}),
    ...(source && !gha.externalParameters ? { source: { uri: source.uri, ref: source.ref } } : {}),
    ...(input.externalParameters ?? {}),
  };
  const predicate: SlsaProvenanceV1 = {
    buildDefinition: {
      buildType: absoluteUri('build type', buildType),
      externalParameters,
      ...(gha.internalParameters ? { internalParameters: gha.internalParameters } : {}),
      ...(source
        ? {
            resolvedDependencies: [
              { uri: `${source.uri}@${source.ref}`, ...(commit ? { digest: { gitCommit: commit.toLowerCase() } } : {}) },
            ],
          }
        : {}),
    },
    runDetails: {
      builder: { id: absoluteUri('builder id', builderId) },
      ...(invocationId ? { metadata: { invocationId } } : {}),
    },
  };
  return { _type: STATEMENT_TYPE_V1, subject, predicateType: SLSA_PROVENANCE_V1, predicate };
}
