import type { Headers } from 'tar-stream';

/**
 * A regular file's tar header with nothing of the machine or the moment in it: owner, group
 * and mode fixed, the given fixed mtime. Reproducible archives (audit packs, offline bundles)
 * build every entry from it, so the same files always give the same bytes.
 */
export function reproducibleFileHeader(name: string, size: number, mtime: Date): Headers {
  return { name, size, mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime, type: 'file' };
}
