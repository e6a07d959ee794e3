/**
 * Why an offline bundle operation refused or failed. The code is the first word of the one line a
 * CLI prints (`ig-offline: DIGEST: …`) and the `check` of a rejected apply in the site ledger, so
 * operators and scripts branch on it: these names are stable.
 */
export const OFFLINE_CHECKS = [
  /** Bad or conflicting command-line flags. */
  'USAGE',
  /** The --config file is unreadable or invalid. */
  'CONFIG',
  /** The build's source directory holds something a bundle cannot carry (a link, a bad name). */
  'SOURCE',
  /** Not a gzip'd tar, truncated, or otherwise unreadable. */
  'ARCHIVE',
  /** A size or entry-count cap was exceeded (decompression bombs). */
  'TOO_LARGE',
  /** An entry name that is absolute, climbs out (..), or is otherwise unsafe. */
  'PATH',
  /** A symbolic or hard link entry. */
  'LINK',
  /** A device, FIFO, directory or other non-regular entry. */
  'SPECIAL_FILE',
  /** The same entry name twice (a later copy could shadow a verified one). */
  'DUPLICATE',
  /** A signature is required and the bundle has none. */
  'UNSIGNED',
  /** The signature does not verify against the configured key, or does not cover the manifest. */
  'SIGNATURE',
  /** The site requires provenance and the bundle's is missing, for another archive, or not signed by the key. */
  'PROVENANCE',
  /** The manifest is missing, malformed, not canonical, or inconsistent. */
  'MANIFEST',
  /** --from/--to do not match the manifest, or the version clashes with the installed one. */
  'VERSION',
  /** The sequence number is not above the installed one (rollback or replay). */
  'SEQUENCE',
  /** The delta's base is not what is installed. */
  'BASE',
  /** An archive entry the manifest does not list. */
  'EXTRA_FILE',
  /** A file the manifest lists that the archive does not carry. */
  'MISSING_FILE',
  /** A file whose sha256 or size differs from the manifest. */
  'DIGEST',
  /** An installed base file a delta keeps no longer matches the installed manifest. */
  'BASE_TREE',
  /** The target directory's installed state is unreadable or inconsistent. */
  'TARGET',
  /** Another apply holds the target's lock. */
  'LOCKED',
  /** The site ledger is unreadable or its hash chain does not verify. */
  'LEDGER',
  /** The installed tree does not match its manifest (ig-offline verify). */
  'VERIFY',
  /** The central server refused or could not be reached during resync. */
  'RESYNC',
] as const;
export type OfflineCheck = (typeof OFFLINE_CHECKS)[number];

/** A refusal or failure of an offline bundle operation, with the check that failed. */
export class OfflineError extends Error {
  constructor(
    readonly check: OfflineCheck,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${check}: ${detail}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OfflineError';
  }
}

export const refuse = (check: OfflineCheck, detail: string): never => {
  throw new OfflineError(check, detail);
};
