import { createHash } from 'node:crypto';
import { DomainError } from '../errors.js';

/**
 * Attestations where images live: the OCI distribution API (fetch only), with cosign's tag scheme.
 * The attestations of image DIGEST are the image manifest tagged `sha256-<hex>.att` in the image's
 * repository, one layer per attestation: a DSSE envelope (mediaType
 * application/vnd.dsse.envelope.v1+json), as `cosign attest` writes, so `cosign
 * verify-attestation` finds ours. The whole Sigstore bundle (verification material included)
 * rides in the layer's `dev.sigstore.bundle.v0.3+json` annotation; verification rebuilds it from
 * the layer alone when it is absent (a key-signed bundle needs nothing else).
 */
export const DSSE_LAYER_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const BUNDLE_ANNOTATION = 'dev.sigstore.bundle.v0.3+json';
export const PREDICATE_ANNOTATION = 'predicateType';
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_BLOB_BYTES = 16 * 1024 * 1024;

export interface ImageRef {
  registry: string;
  repository: string;
  tag: string | null;
  digest: string | null;
}

export class RegistryError extends DomainError<'BAD_USER_INPUT' | 'NOT_FOUND'> {
  constructor(
    code: 'BAD_USER_INPUT' | 'NOT_FOUND',
    message: string,
    readonly status: number | null = null,
  ) {
    super(code, message);
  }
}

/** `HOST[:PORT]/REPO[:TAG][@sha256:HEX]`; the host part is required (no implicit Docker Hub). */
export function parseImageRef(ref: string): ImageRef {
  const at = ref.indexOf('@');
  const digest = at >= 0 ? ref.slice(at + 1) : null;
  const rest = at >= 0 ? ref.slice(0, at) : ref;
  if (digest !== null && !/^sha256:[0-9a-f]{64}$/.test(digest))
    throw new RegistryError('BAD_USER_INPUT', `${ref}: the digest must be sha256:<64 hex>`);
  const slash = rest.indexOf('/');
  if (slash <= 0) throw new RegistryError('BAD_USER_INPUT', `${ref}: expected REGISTRY/REPOSITORY[:TAG][@sha256:HEX]`);
  const registry = rest.slice(0, slash);
  let repository = rest.slice(slash + 1);
  let tag: string | null = null;
  const colon = repository.lastIndexOf(':');
  if (colon >= 0) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
  }
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(repository))
    throw new RegistryError('BAD_USER_INPUT', `${ref}: ${JSON.stringify(repository)} is not a repository name`);
  if (tag !== null && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag))
    throw new RegistryError('BAD_USER_INPUT', `${ref}: ${JSON.stringify(tag)} is not a tag`);
  if (tag === null && digest === null) tag = 'latest';
  return { registry, repository, tag, digest };
}

export const attestationTag = (digest: string) => `${digest.replace(':', '-')}.att`;
const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface RegistryOptions {
  /** Plain HTTP; the default for loopback registries (localhost, 127.0.0.0/8, [::1]) only. */
  plainHttp?: boolean;
  /** Basic credentials for the registry or its token service. */
  username?: string;
  password?: string;
}

interface ManifestDoc {
  schemaVersion: number;
  mediaType?: string;
  config: { mediaType: string; digest: string; size: number };
  layers: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[];
  annotations?: Record<string, string>;
}

/** A client of one repository of a registry (the distribution API v2), with the token dance of public registries. */
export class RegistryClient {
  private token: string | null = null;
  private readonly base: string;

  constructor(
    readonly ref: ImageRef,
    private readonly opts: RegistryOptions = {},
  ) {
    const host = ref.registry.replace(/:\d+$/, '');
    const loopback = host === 'localhost' || /^127\./.test(host) || host === '[::1]';
    this.base = `${(opts.plainHttp ?? loopback) ? 'http' : 'https'}://${ref.registry}/v2/${ref.repository}`;
  }

  private basic(): string | null {
    return this.opts.username !== undefined
      ? `Basic ${Buffer.from(`${this.opts.username}:${this.opts.password ?? ''}`).toString('base64')}`
      : null;
  }

  private async request(path: string, init: RequestInit = {}, retried = false): Promise<Response> {
    const headers = new Headers(init.headers);
    const auth = this.token ? `Bearer ${this.token}` : this.basic();
    if (auth) headers.set('authorization', auth);
    const url = path.startsWith('http') ? path : `${this.base}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { ...init, headers, redirect: 'follow' });
    } catch (err) {
      throw new RegistryError('BAD_USER_INPUT', `registry ${this.ref.registry} unreachable: ${(err as Error).message}`);
    }
    if (res.status === 401 && !retried) {
      const challenge = res.headers.get('www-authenticate') ?? '';
      if (/^Bearer /i.test(challenge)) {
        await res.body?.cancel();
        await this.fetchToken(challenge);
        return this.request(path, init, true);
      }
    }
    return res;
  }

  /** The bearer token of a `WWW-Authenticate: Bearer realm=…,service=…,scope=…` challenge. */
  private async fetchToken(challenge: string): Promise<void> {
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]));
    if (!params.realm) throw new RegistryError('BAD_USER_INPUT', `registry ${this.ref.registry}: a Bearer challenge without a realm`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${this.ref.repository}:pull,push`);
    const basic = this.basic();
    const res = await fetch(url, basic ? { headers: { authorization: basic } } : {});
    if (!res.ok)
      throw new RegistryError('BAD_USER_INPUT', `registry ${this.ref.registry}: token service answered HTTP ${res.status}`, res.status);
    const body = (await res.json()) as { token?: string; access_token?: string };
    this.token = body.token ?? body.access_token ?? null;
  }

  private async failed(res: Response, what: string): Promise<never> {
    const text = (await res.text().catch(() => '')).slice(0, 300);
    throw new RegistryError(
      res.status === 404 ? 'NOT_FOUND' : 'BAD_USER_INPUT',
      `${what}: HTTP ${res.status}${text ? ` ${text}` : ''}`,
      res.status,
    );
  }

  private async capped(res: Response, max: number, what: string): Promise<Buffer> {
    const len = Number(res.headers.get('content-length') ?? '0');
    if (len > max) throw new RegistryError('BAD_USER_INPUT', `${what} is larger than ${max} bytes`);
    const buf = Buffer.from(await res.arrayBuffer());
    if (buf.length > max) throw new RegistryError('BAD_USER_INPUT', `${what} is larger than ${max} bytes`);
    return buf;
  }

  /** The manifest at a tag or digest, its bytes and digest; null when there is none. */
  async manifest(reference: string): Promise<{ bytes: Buffer; digest: string; mediaType: string } | null> {
    const res = await this.request(`/manifests/${reference}`, {
      headers: { accept: [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].join(', ') },
    });
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) return this.failed(res, `manifest ${reference}`);
    const bytes = await this.capped(res, MAX_MANIFEST_BYTES, `manifest ${reference}`);
    const digest = sha256(bytes);
    // Asked by digest, the bytes must hash to it: a registry cannot swap the manifest.
    if (reference.startsWith('sha256:') && digest !== reference)
      throw new RegistryError('BAD_USER_INPUT', `manifest ${reference}: the registry served content with digest ${digest}`);
    const mediaType = res.headers.get('content-type')?.split(';')[0]?.trim() ?? OCI_MANIFEST;
    return { bytes, digest, mediaType };
  }

  /** The image's digest: pinned in the reference, else the manifest its tag names now. */
  async resolveDigest(): Promise<string> {
    if (this.ref.digest) return this.ref.digest;
    const m = await this.manifest(this.ref.tag ?? 'latest');
    if (!m) throw new RegistryError('NOT_FOUND', `no image ${this.ref.registry}/${this.ref.repository}:${this.ref.tag ?? 'latest'}`);
    return m.digest;
  }

  async blob(digest: string): Promise<Buffer> {
    const res = await this.request(`/blobs/${digest}`);
    if (!res.ok) return this.failed(res, `blob ${digest}`);
    const bytes = await this.capped(res, MAX_BLOB_BYTES, `blob ${digest}`);
    if (sha256(bytes) !== digest) throw new RegistryError('BAD_USER_INPUT', `blob ${digest}: the registry served other content`);
    return bytes;
  }

  /** Uploads a blob (monolithic: POST then PUT ?digest=), unless the registry has it. */
  async pushBlob(bytes: Buffer): Promise<string> {
    const digest = sha256(bytes);
    const head = await this.request(`/blobs/${digest}`, { method: 'HEAD' });
    if (head.ok) return digest;
    const start = await this.request('/blobs/uploads/', { method: 'POST' });
    if (start.status !== 202) return this.failed(start, 'blob upload');
    await start.body?.cancel();
    const location = start.headers.get('location');
    if (!location) throw new RegistryError('BAD_USER_INPUT', 'blob upload: no Location');
    const url = new URL(location, `${this.base}/`);
    url.searchParams.set('digest', digest);
    const put = await this.request(url.toString(), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
      body: new Uint8Array(bytes),
    });
    if (put.status !== 201) return this.failed(put, `blob ${digest}`);
    await put.body?.cancel();
    return digest;
  }

  async pushManifest(reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.request(`/manifests/${reference}`, {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body: new Uint8Array(bytes),
    });
    if (res.status !== 201) return this.failed(res, `manifest ${reference}`);
    await res.body?.cancel();
    return sha256(bytes);
  }
}

export interface SerializedDsseBundle {
  mediaType: string;
  verificationMaterial?: unknown;
  dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string; keyid?: string }[] };
}

/** The DSSE envelope of a Sigstore bundle, as the layer cosign writes (payloadType, payload, signatures). */
export function envelopeOf(bundle: SerializedDsseBundle): Buffer {
  const e = bundle.dsseEnvelope;
  return Buffer.from(
    JSON.stringify({
      payloadType: e.payloadType,
      payload: e.payload,
      signatures: e.signatures.map((s) => ({ keyid: s.keyid ?? '', sig: s.sig })),
    }),
  );
}

/**
 * Stores a signed attestation of the image: a DSSE layer in the `sha256-<hex>.att` manifest,
 * added to the layers already there (another attestation of the same image stays). Returns the
 * image digest, the tag and the new manifest's digest.
 */
export async function attachAttestation(
  client: RegistryClient,
  bundle: SerializedDsseBundle,
  predicateType: string,
): Promise<{ imageDigest: string; tag: string; manifestDigest: string; layers: number }> {
  const imageDigest = await client.resolveDigest();
  const tag = attestationTag(imageDigest);
  const envelope = envelopeOf(bundle);
  const layerDigest = await client.pushBlob(envelope);
  const existing = await client.manifest(tag);
  const previous = existing ? (JSON.parse(existing.bytes.toString('utf8')) as ManifestDoc) : null;
  const layers = (previous?.layers ?? []).filter((l) => l.digest !== layerDigest);
  layers.push({
    mediaType: DSSE_LAYER_MEDIA_TYPE,
    digest: layerDigest,
    size: envelope.length,
    annotations: { [PREDICATE_ANNOTATION]: predicateType, [BUNDLE_ANNOTATION]: JSON.stringify(bundle) },
  });
  // cosign's attestation image config: an empty rootfs; the layers are not a filesystem.
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      config: {},
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    }),
  );
  const configDigest = await client.pushBlob(config);
  const manifest: ManifestDoc = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
    layers,
  };
  const manifestDigest = await client.pushManifest(tag, Buffer.from(JSON.stringify(manifest)), OCI_MANIFEST);
  return { imageDigest, tag, manifestDigest, layers: layers.length };
}

export interface FetchedAttestation {
  layerDigest: string;
  predicateType: string | null;
  /** The Sigstore bundle to verify: from the annotation when it carries this layer's envelope, else rebuilt from the envelope. */
  bundle: SerializedDsseBundle;
}

/** Every DSSE attestation stored for the image (none: an empty list). */
export async function fetchAttestations(client: RegistryClient, imageDigest: string): Promise<FetchedAttestation[]> {
  const m = await client.manifest(attestationTag(imageDigest));
  if (!m) return [];
  const doc = JSON.parse(m.bytes.toString('utf8')) as ManifestDoc;
  const out: FetchedAttestation[] = [];
  for (const layer of doc.layers ?? []) {
    if (layer.mediaType !== DSSE_LAYER_MEDIA_TYPE) continue;
    const envelope = JSON.parse((await client.blob(layer.digest)).toString('utf8')) as SerializedDsseBundle['dsseEnvelope'];
    let bundle: SerializedDsseBundle | null = null;
    const annotated = layer.annotations?.[BUNDLE_ANNOTATION];
    if (annotated) {
      try {
        const b = JSON.parse(annotated) as SerializedDsseBundle;
        // Only a bundle whose envelope is exactly the layer's: the annotation cannot smuggle another statement.
        if (b.dsseEnvelope && envelopeOf(b).equals(envelopeOf({ mediaType: '', dsseEnvelope: envelope }))) bundle = b;
      } catch {
        bundle = null;
      }
    }
    bundle ??= {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: {
        publicKey: { hint: envelope.signatures[0]?.keyid ?? '' },
        tlogEntries: [],
        timestampVerificationData: { rfc3161Timestamps: [] },
      },
      dsseEnvelope: envelope,
    };
    out.push({ layerDigest: layer.digest, predicateType: layer.annotations?.[PREDICATE_ANNOTATION] ?? null, bundle });
  }
  return out;
}
