import { access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair } from './keys.js';
import { KeyPairSigner } from './key-signer.js';

/**
 * The server's own key pair, for what it signs itself (promotion VSAs, audit packs):
 * SIGNING_KEY_FILE in production; otherwise a development key kept in DATA_DIR
 * (signing.key / signing.pub), created on first start.
 */
export async function loadServerSigner(opts: { keyFile?: string | undefined; dataDir: string; create: boolean }): Promise<KeyPairSigner> {
  if (opts.keyFile) return KeyPairSigner.fromPem(await readFile(opts.keyFile));
  const prefix = join(opts.dataDir, 'signing');
  const exists = await access(`${prefix}.key`).then(
    () => true,
    () => false,
  );
  if (!exists) {
    if (!opts.create) throw new Error(`no SIGNING_KEY_FILE and no development key at ${prefix}.key`);
    await mkdir(opts.dataDir, { recursive: true });
    await generateKeyPair(prefix).catch((err: NodeJS.ErrnoException) => {
      // Another replica or process created it first: use theirs.
      if (err.code !== 'EEXIST') throw err;
    });
  }
  return KeyPairSigner.fromPem(await readFile(`${prefix}.key`));
}
