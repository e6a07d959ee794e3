import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RegistryError } from './oci.js';

/**
 * Registry credentials for the image commands: REGISTRY_USERNAME/REGISTRY_PASSWORD when set,
 * else the registry's `auths` entry of the Docker config (`docker login`, `skopeo login
 * --authfile`, `podman login` write it): `auth` (base64 user:password) or username/password.
 * Credential helpers (`credsStore`, `credHelpers`) are not run: a registry that has only a helper
 * gets no credentials and its 401 says so.
 */
export interface RegistryCredentialSources {
  REGISTRY_USERNAME?: string | undefined;
  REGISTRY_PASSWORD?: string | undefined;
  DOCKER_CONFIG?: string | undefined;
}

export type RegistryCredentials = { username: string; password: string } | Record<string, never>;

/** `https://host:port/v1/` and `host:port` name the same registry in config.json. */
const hostOf = (key: string) => key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');

export function registryCredentials(registry: string, s: RegistryCredentialSources): RegistryCredentials {
  if (s.REGISTRY_USERNAME !== undefined) return { username: s.REGISTRY_USERNAME, password: s.REGISTRY_PASSWORD ?? '' };
  const file = join(s.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new RegistryError('BAD_USER_INPUT', `${file} is not JSON`);
  }
  const auths = (doc as { auths?: Record<string, { auth?: unknown; username?: unknown; password?: unknown }> } | null)?.auths ?? {};
  const entry = Object.entries(auths).find(([k]) => hostOf(k) === registry)?.[1];
  if (!entry) return {};
  if (typeof entry.username === 'string' && typeof entry.password === 'string')
    return { username: entry.username, password: entry.password };
  if (typeof entry.auth !== 'string') return {};
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new RegistryError('BAD_USER_INPUT', `${file}: the auth of ${registry} is not base64 of user:password`);
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
