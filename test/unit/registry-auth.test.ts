import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseImageRef, RegistryClient } from '../../src/attestations/oci.js';
import { registryCredentials } from '../../src/attestations/registry-auth.js';

/**
 * The credentials of `ig-attest attach --image` / `ig-gate attestations --image`, against a
 * loopback HTTP server that demands them: Basic on the registry itself (as a docker-registry with
 * htpasswd), or a Bearer token from a token service that demands Basic (as Docker Hub, GHCR).
 */
const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [] }));
const DIGEST = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;
const BASIC = `Basic ${Buffer.from('ci-bot:s3cret').toString('base64')}`;
const TOKEN = 'token-for-ci-bot';
let server: Server;
let host: string;
const seen: { path: string; authorization: string | null }[] = [];

function handle(req: IncomingMessage): { status: number; headers?: Record<string, string>; body?: Buffer | string } {
  const url = new URL(req.url ?? '/', 'http://x');
  const auth = req.headers.authorization ?? null;
  seen.push({ path: url.pathname, authorization: auth });
  if (url.pathname === '/token')
    return auth === BASIC ? { status: 200, body: JSON.stringify({ token: TOKEN }) } : { status: 401, body: 'bad credentials' };
  const basicRepo = url.pathname === '/v2/basic/app/manifests/latest';
  const bearerRepo = url.pathname === '/v2/bearer/app/manifests/latest';
  if (!basicRepo && !bearerRepo) return { status: 404 };
  const ok = basicRepo ? auth === BASIC : auth === `Bearer ${TOKEN}`;
  if (!ok)
    return {
      status: 401,
      headers: {
        'www-authenticate': basicRepo
          ? 'Basic realm="registry"'
          : `Bearer realm="http://${host}/token",service="${host}",scope="repository:bearer/app:pull"`,
      },
    };
  return { status: 200, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: MANIFEST };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const r = handle(req);
    res.writeHead(r.status, r.headers ?? {});
    res.end(r.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function dockerConfig(auths: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'docker-config-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths }));
  return dir;
}

describe('#registryCredentials', () => {
  describe('when the registry demands Basic credentials', () => {
    it('resolves the image with the `auth` of its entry in the Docker config', async () => {
      const creds = registryCredentials(host, {
        DOCKER_CONFIG: dockerConfig({ [`https://${host}/v1/`]: { auth: Buffer.from('ci-bot:s3cret').toString('base64') } }),
      });
      expect(creds).toEqual({ username: 'ci-bot', password: 's3cret' });
      expect(await new RegistryClient(parseImageRef(`${host}/basic/app`), creds).resolveDigest()).toBe(DIGEST);
    });

    it('is refused with HTTP 401 without credentials, or with another registry’s', async () => {
      const creds = registryCredentials(host, { DOCKER_CONFIG: dockerConfig({ 'ghcr.io': { username: 'ci-bot', password: 's3cret' } }) });
      expect(creds).toEqual({});
      await expect(new RegistryClient(parseImageRef(`${host}/basic/app`), creds).resolveDigest()).rejects.toThrow(/HTTP 401/);
    });
  });

  describe('when the registry answers with a Bearer challenge', () => {
    it('gets a token from the token service with REGISTRY_USERNAME/REGISTRY_PASSWORD (they win over the Docker config) and sends it', async () => {
      seen.length = 0;
      const creds = registryCredentials(host, {
        REGISTRY_USERNAME: 'ci-bot',
        REGISTRY_PASSWORD: 's3cret',
        DOCKER_CONFIG: dockerConfig({ [host]: { username: 'someone', password: 'else' } }),
      });
      expect(await new RegistryClient(parseImageRef(`${host}/bearer/app`), creds).resolveDigest()).toBe(DIGEST);
      expect(seen.find((s) => s.path === '/token')?.authorization).toBe(BASIC);
      expect(seen.at(-1)).toEqual({ path: '/v2/bearer/app/manifests/latest', authorization: `Bearer ${TOKEN}` });
    });

    it('fails naming the token service’s answer when the credentials are wrong', async () => {
      const creds = registryCredentials(host, { REGISTRY_USERNAME: 'ci-bot', REGISTRY_PASSWORD: 'wrong' });
      await expect(new RegistryClient(parseImageRef(`${host}/bearer/app`), creds).resolveDigest()).rejects.toThrow(
        /token service answered HTTP 401/,
      );
    });
  });

  it('refuses a Docker config whose auth is not user:password', () => {
    expect(() =>
      registryCredentials(host, { DOCKER_CONFIG: dockerConfig({ [host]: { auth: Buffer.from('nocolon').toString('base64') } }) }),
    ).toThrow(/not base64 of user:password/);
  });
});
