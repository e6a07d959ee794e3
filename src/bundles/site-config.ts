import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { OfflineError } from './errors.js';
import { SITE_PATTERN } from './site-ledger.js';

/**
 * A site's configuration file (`ig-offline … --config FILE`), JSON. It is where an air-gapped
 * site pins what it trusts: the public key and whether a signature is required. Relative paths
 * are relative to the file. Flags override values, except that a flag can never turn off a
 * signature requirement the file sets.
 *
 *   { "target": "/srv/black-cell", "publicKey": "keys/release.pub", "requireSignature": true, "requireProvenance": true,
 *     "site": "bc-north-1", "ledger": "/srv/black-cell/ledger.jsonl", "log": "…/apply.log",
 *     "limits": { "maxTotalBytes": 1073741824, "maxFileBytes": 268435456, "maxEntries": 50000 },
 *     "server": "https://compliance.example/graphql", "tokenFile": "/etc/ig/token" }
 */
const positive = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const configSchema = z.strictObject({
  target: z.string().min(1).optional(),
  publicKey: z.string().min(1).optional(),
  requireSignature: z.boolean().optional(),
  /** Every bundle must come with SLSA provenance signed by publicKey (BUNDLE.provenance.sigstore.json). */
  requireProvenance: z.boolean().optional(),
  site: z.string().regex(SITE_PATTERN, 'letters, digits and . _ : -, 1-128 characters').optional(),
  ledger: z.string().min(1).optional(),
  log: z.string().min(1).optional(),
  limits: z
    .strictObject({ maxTotalBytes: positive.optional(), maxFileBytes: positive.optional(), maxEntries: positive.optional() })
    .optional(),
  server: z.url().optional(),
  tokenFile: z.string().min(1).optional(),
});

export type SiteConfig = z.infer<typeof configSchema>;

const MAX_CONFIG_BYTES = 64 * 1024;
const PATH_KEYS = ['target', 'publicKey', 'ledger', 'log', 'tokenFile'] as const;

export async function loadSiteConfig(path: string | undefined): Promise<SiteConfig> {
  if (path === undefined) return {};
  let text: string;
  try {
    const buf = await readFile(path);
    if (buf.length > MAX_CONFIG_BYTES) throw new OfflineError('CONFIG', `${path} is larger than ${MAX_CONFIG_BYTES} bytes`);
    text = buf.toString('utf8');
  } catch (err) {
    if (err instanceof OfflineError) throw err;
    throw new OfflineError('CONFIG', `${path}: ${(err as Error).message}`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new OfflineError('CONFIG', `${path} is not valid JSON (${(err as Error).message})`);
  }
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new OfflineError('CONFIG', `${path}: ${problems}`);
  }
  const config: SiteConfig = { ...parsed.data };
  const base = dirname(resolve(path));
  for (const key of PATH_KEYS) {
    const v = config[key];
    if (v !== undefined) config[key] = resolve(base, v);
  }
  return config;
}
