import { CommanderError, type Command } from 'commander';
import { OfflineError } from '../bundles/errors.js';
import { DomainError } from '../errors.js';

/** What the system says when a file named on the command line cannot be used. */
const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
};

function isFileError(err: unknown): err is NodeJS.ErrnoException & { code: string; path: string } {
  if (!(err instanceof Error)) return false;
  const { code, path } = err as NodeJS.ErrnoException;
  return typeof path === 'string' && code !== undefined && code in FILE_ERRORS;
}

/** The file error behind a failure, however deep in its causes (modules wrap them in their own errors). */
function fileErrorIn(err: unknown): (NodeJS.ErrnoException & { code: string; path: string }) | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) if (isFileError(e)) return e;
  return undefined;
}

/**
 * One line and an exit code for a failure: 2 for what the user can fix in the command (bad
 * arguments, a missing or unreadable file, input that is not JSON), 1 for anything else (a check
 * that failed, a refusal, a server error).
 */
export function describeFailure(err: unknown): { line: string; exitCode: number } {
  const file = fileErrorIn(err);
  if (file) return { line: `${file.path}: ${FILE_ERRORS[file.code]}`, exitCode: 2 };
  if (err instanceof DomainError && err.code === 'BAD_USER_INPUT') return { line: err.message, exitCode: 2 };
  if (err instanceof OfflineError && (err.check === 'USAGE' || err.check === 'CONFIG')) return { line: err.message, exitCode: 2 };
  // Only JSON.parse throws SyntaxError at run time; its message says so.
  if (err instanceof SyntaxError) return { line: `invalid JSON input: ${err.message}`, exitCode: 2 };
  return { line: err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err), exitCode: 1 };
}

/**
 * Runs a CLI program: `--help` works, and any failure exits non-zero with one line saying why
 * (no stack trace for expected errors; set DEBUG=1 to see one).
 */
export async function runCli(
  program: Command,
  argv: string[] = process.argv,
  /** The exit code of a failure, where a CLI decides it itself (ig-gate: 1 only for "blocked"). */
  codes: { failure?: (err: unknown) => number } = {},
): Promise<void> {
  // Subcommands copy these settings only when created, before this runs: set them on each.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.exitOverride().configureOutput({ outputError: (str, write) => write(str) });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its one line (or the help); its errors are all usage errors.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    const { line, exitCode } = describeFailure(err);
    process.stderr.write(`${program.name()}: ${line}\n`);
    if (process.env.DEBUG) process.stderr.write(`${err instanceof Error ? err.stack : ''}\n`);
    process.exitCode = codes.failure?.(err) ?? exitCode;
  }
}
