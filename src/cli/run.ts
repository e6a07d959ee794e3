import { CommanderError, type Command } from 'commander';

/**
 * Runs a CLI program: `--help` works, and any failure exits non-zero with one line saying why
 * (no stack trace for expected errors; set DEBUG=1 to see one).
 */
export async function runCli(
  program: Command,
  argv: string[] = process.argv,
  /** Exit codes other than 1: for a usage error (commander's), and per failure. */
  codes: { usage?: number; failure?: (err: unknown) => number } = {},
): Promise<void> {
  // Subcommands copy these settings only when created, before this runs: set them on each.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.exitOverride().configureOutput({ outputError: (str, write) => write(str) });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : (codes.usage ?? err.exitCode);
      return;
    }
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    process.stderr.write(`${program.name()}: ${message}\n`);
    if (process.env.DEBUG) process.stderr.write(`${err instanceof Error ? err.stack : ''}\n`);
    process.exitCode = codes.failure?.(err) ?? 1;
  }
}
