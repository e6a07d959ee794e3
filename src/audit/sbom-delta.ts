import { Enums, Models, SPDX } from '@cyclonedx/cyclonedx-library';
import { PackageURL } from 'packageurl-js';

/**
 * SBOM deltas between two CycloneDX JSON documents, computed on the CycloneDX library's models:
 * each component of either document becomes a Models.Component (purl parsed, licences as SPDX
 * ids, named licences or expressions), and components are matched by their package URL without
 * the version (or group/name when they have no purl).
 */

export interface DeltaComponent {
  ref: string;
  name: string;
  group: string | null;
  version: string;
  purl: string | null;
  licenses: string[];
}

export interface VersionChange {
  ref: string;
  name: string;
  fromVersion: string;
  toVersion: string;
}

export interface SbomDelta {
  added: DeltaComponent[];
  removed: DeltaComponent[];
  upgraded: VersionChange[];
  downgraded: VersionChange[];
  licenseChanges: { ref: string; name: string; from: string[]; to: string[] }[];
  unchanged: number;
  fromCount: number;
  toCount: number;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

function licenseOf(entry: unknown): Models.License | null {
  if (!isObject(entry)) return null;
  const expression = str(entry.expression);
  if (expression) return new Models.LicenseExpression(expression);
  const l = entry.license;
  if (!isObject(l)) return null;
  const id = str(l.id);
  if (id && SPDX.isSupportedSpdxId(id)) return new Models.SpdxLicense(id);
  const name = str(l.name) ?? id;
  return name ? new Models.NamedLicense(name) : null;
}

const licenseText = (l: Models.License): string =>
  l instanceof Models.LicenseExpression ? l.expression : l instanceof Models.SpdxLicense ? l.id : (l as Models.NamedLicense).name;

/** Every component of a CycloneDX JSON BOM (nested ones too) as library models. */
export function bomComponents(bom: unknown): Models.Component[] {
  const out: Models.Component[] = [];
  const walk = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const c of list) {
      if (!isObject(c)) continue;
      const name = str(c.name);
      if (name) {
        let purl: PackageURL | undefined;
        try {
          purl = str(c.purl) ? PackageURL.fromString(c.purl as string) : undefined;
        } catch {
          purl = undefined; // A malformed purl: matched by group/name instead.
        }
        const type = Object.values(Enums.ComponentType).includes(c.type as Enums.ComponentType)
          ? (c.type as Enums.ComponentType)
          : Enums.ComponentType.Library;
        const component = new Models.Component(type, name, {
          ...(str(c.group) ? { group: c.group as string } : {}),
          ...(str(c.version) ? { version: c.version as string } : {}),
          ...(purl ? { purl: purl.toString() } : {}),
        });
        for (const l of Array.isArray(c.licenses) ? c.licenses : []) {
          const model = licenseOf(l);
          if (model) component.licenses.add(model);
        }
        out.push(component);
      }
      walk(c.components);
    }
  };
  if (isObject(bom)) walk(bom.components);
  return out;
}

/** The identity of a component across versions. */
function refOf(c: Models.Component): string {
  if (c.purl) {
    const p = PackageURL.fromString(c.purl);
    return new PackageURL(p.type, p.namespace ?? null, p.name, null, null, null).toString();
  }
  return c.group ? `${c.group}/${c.name}` : c.name;
}

/** Numeric-aware version order (1.10 > 1.9); a pre-release (1.0.0-rc) sorts before its release. */
export function compareVersions(a: string, b: string): number {
  const [ma, pa = ''] = a.replace(/^v/, '').split('-', 2) as [string, string?];
  const [mb, pb = ''] = b.replace(/^v/, '').split('-', 2) as [string, string?];
  const xa = ma.split('.');
  const xb = mb.split('.');
  for (let i = 0; i < Math.max(xa.length, xb.length); i++) {
    const sa = xa[i] ?? '0';
    const sb = xb[i] ?? '0';
    const na = Number(sa);
    const nb = Number(sb);
    const c = Number.isFinite(na) && Number.isFinite(nb) ? na - nb : sa.localeCompare(sb);
    if (c !== 0) return Math.sign(c);
  }
  if (pa === pb) return 0;
  if (!pa) return 1;
  if (!pb) return -1;
  return pa.localeCompare(pb, 'en', { numeric: true });
}

function describe(ref: string, c: Models.Component): DeltaComponent {
  return {
    ref,
    name: c.group ? `${c.group}/${c.name}` : c.name,
    group: c.group ?? null,
    version: c.version ?? '',
    purl: c.purl ?? null,
    licenses: [...c.licenses].map(licenseText).sort(),
  };
}

/** Indexes components by identity; of duplicates (two versions of one package), the highest version. */
function index(components: Models.Component[]): Map<string, Models.Component> {
  const m = new Map<string, Models.Component>();
  for (const c of components) {
    const ref = refOf(c);
    const seen = m.get(ref);
    if (!seen || compareVersions(c.version ?? '', seen.version ?? '') > 0) m.set(ref, c);
  }
  return m;
}

const byRef = <T extends { ref: string }>(a: T, b: T) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0);

export function sbomDelta(fromBom: unknown, toBom: unknown): SbomDelta {
  const before = index(bomComponents(fromBom));
  const after = index(bomComponents(toBom));
  const d: SbomDelta = {
    added: [],
    removed: [],
    upgraded: [],
    downgraded: [],
    licenseChanges: [],
    unchanged: 0,
    fromCount: before.size,
    toCount: after.size,
  };
  for (const [ref, c] of after) {
    const old = before.get(ref);
    if (!old) {
      d.added.push(describe(ref, c));
      continue;
    }
    const was = describe(ref, old);
    const now = describe(ref, c);
    const order = compareVersions(now.version, was.version);
    const change = { ref, name: now.name, fromVersion: was.version, toVersion: now.version };
    if (order > 0) d.upgraded.push(change);
    else if (order < 0) d.downgraded.push(change);
    if (was.licenses.join('\n') !== now.licenses.join('\n'))
      d.licenseChanges.push({ ref, name: now.name, from: was.licenses, to: now.licenses });
    if (order === 0 && was.licenses.join('\n') === now.licenses.join('\n')) d.unchanged++;
  }
  for (const [ref, c] of before) if (!after.has(ref)) d.removed.push(describe(ref, c));
  for (const list of [d.added, d.removed, d.upgraded, d.downgraded, d.licenseChanges]) list.sort(byRef);
  return d;
}
