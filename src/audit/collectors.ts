import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Enums, Models, Serialize, Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { PackageURL } from 'packageurl-js';
import { z } from 'zod';
import { digestJson } from '../util/canonical.js';

/**
 * Evidence collectors behind `ig-evidence collect`: each builds the content of one evidence
 * item from a real source (the installed dependency tree, the licence allow-list, the API's
 * budgets and CMK rotations); the CLI records it through recordEvidence.
 */

export interface SbomComponent {
  name: string;
  version: string;
  license: string | null;
  purl: string;
}

export interface Sbom {
  /** The CycloneDX 1.6 document, validated against the CycloneDX JSON schema. */
  bom: Record<string, unknown>;
  components: SbomComponent[];
}

const lockSchema = z.object({
  name: z.string().optional(),
  version: z.string().optional(),
  lockfileVersion: z.number().int().min(2),
  packages: z.record(
    z.string(),
    z
      .object({
        version: z.string().optional(),
        license: z.string().optional(),
        dev: z.boolean().optional(),
        name: z.string().optional(),
        link: z.boolean().optional(),
      })
      .loose(),
  ),
});

function nameOf(path: string, declared: string | undefined): string {
  if (declared) return declared;
  const i = path.lastIndexOf('node_modules/');
  return path.slice(i + 'node_modules/'.length);
}

async function licenseFromPackageJson(root: string, path: string): Promise<string | null> {
  try {
    const pkg = JSON.parse(await readFile(join(root, path, 'package.json'), 'utf8')) as { license?: unknown; licenses?: unknown };
    if (typeof pkg.license === 'string') return pkg.license;
    if (Array.isArray(pkg.licenses)) {
      const types = pkg.licenses
        .map((l: unknown) => (typeof l === 'object' && l !== null ? (l as { type?: unknown }).type : undefined))
        .filter((t): t is string => typeof t === 'string');
      return types.length ? types.join(' OR ') : null;
    }
  } catch {
    // Not installed (an optional dependency of another platform): no licence known.
  }
  return null;
}

function licenseModel(expression: string): Models.License {
  if (/\s(AND|OR|WITH)\s/.test(expression) || expression.startsWith('(')) return new Models.LicenseExpression(expression);
  return new Models.NamedLicense(expression);
}

/**
 * The SBOM of the running service: every production package of the installed tree (the
 * lockfile's `packages`, which is what `npm ci` installs), deduplicated by name and version,
 * licences from the lockfile or the installed package.json.
 */
export async function collectSbom(root: string, now: Date): Promise<Sbom> {
  const app = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { name: string; version: string; description?: string };
  const lock = lockSchema.parse(JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')));
  const seen = new Map<string, SbomComponent>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev || entry.link || !entry.version) continue;
    const name = nameOf(path, entry.name);
    const key = `${name}@${entry.version}`;
    if (seen.has(key)) continue;
    const license = entry.license ?? (await licenseFromPackageJson(root, path));
    const [group, bare] = name.startsWith('@') ? (name.split('/', 2) as [string, string]) : [undefined, name];
    const purl = new PackageURL('npm', group ?? null, bare, entry.version, null, null).toString();
    seen.set(key, { name, version: entry.version, license, purl });
  }
  const components = [...seen.values()].sort((a, b) => (a.purl < b.purl ? -1 : 1));

  const bom = new Models.Bom({ serialNumber: `urn:uuid:${randomUUID()}` });
  bom.metadata.timestamp = now;
  bom.metadata.component = new Models.Component(Enums.ComponentType.Application, app.name, {
    version: app.version,
    bomRef: `pkg:npm/${app.name}@${app.version}`,
    ...(app.description ? { description: app.description } : {}),
  });
  for (const c of components) {
    const [group, bare] = c.name.startsWith('@') ? (c.name.split('/', 2) as [string, string]) : [undefined, c.name];
    const component = new Models.Component(Enums.ComponentType.Library, bare, {
      version: c.version,
      purl: c.purl,
      bomRef: c.purl,
      scope: Enums.ComponentScope.Required,
      ...(group ? { group } : {}),
    });
    if (c.license) component.licenses.add(licenseModel(c.license));
    bom.components.add(component);
  }
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  const json = serializer.serialize(bom, { sortLists: true });
  const invalid = await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(json);
  if (invalid !== null)
    throw new Error(`the generated SBOM does not validate against the CycloneDX 1.6 schema: ${JSON.stringify(invalid).slice(0, 500)}`);
  return { bom: JSON.parse(json) as Record<string, unknown>, components };
}

export const allowListSchema = z.object({
  /** SPDX ids of licences accepted without review. */
  allowed: z.array(z.string().min(1)).min(1),
  /** Packages accepted despite their licence: name -> reason (recorded in the proof). */
  exceptions: z.record(z.string(), z.string().min(1)).default({}),
});
export type LicenseAllowList = z.infer<typeof allowListSchema>;

export async function loadAllowList(file: string): Promise<LicenseAllowList> {
  return allowListSchema.parse(JSON.parse(await readFile(file, 'utf8')));
}

/** True when an SPDX expression is satisfied by the allow-list (any OR branch, every AND term). */
export function licenseAllowed(expression: string, allowed: ReadonlySet<string>): boolean {
  const flat = expression.replace(/[()]/g, ' ').trim();
  return flat
    .split(/\s+OR\s+/)
    .some((branch) => branch.split(/\s+AND\s+/).every((term) => allowed.has(term.trim().split(/\s+WITH\s+/)[0] as string)));
}

export interface LicenseProof {
  sbomDigest: string;
  allowList: { allowed: string[]; exceptions: Record<string, string>; digest: string };
  checked: number;
  passed: boolean;
  violations: { name: string; version: string; license: string | null; reason: string }[];
  exceptionsApplied: { name: string; version: string; license: string | null; reason: string }[];
}

/** Checks every SBOM component's licence against the allow-list. */
export function licenseProof(sbom: Sbom, allowList: LicenseAllowList): LicenseProof {
  const allowed = new Set(allowList.allowed);
  const violations: LicenseProof['violations'] = [];
  const exceptionsApplied: LicenseProof['exceptionsApplied'] = [];
  for (const c of sbom.components) {
    if (c.license && licenseAllowed(c.license, allowed)) continue;
    const exception = allowList.exceptions[c.name];
    const entry = {
      name: c.name,
      version: c.version,
      license: c.license,
      reason: exception ?? (c.license ? `${c.license} is not on the allow-list` : 'no licence declared'),
    };
    (exception ? exceptionsApplied : violations).push(entry);
  }
  return {
    sbomDigest: digestJson(sbom.bom),
    allowList: { ...allowList, digest: digestJson(allowList) },
    checked: sbom.components.length,
    passed: violations.length === 0,
    violations,
    exceptionsApplied,
  };
}
