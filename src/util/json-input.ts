import { badInput } from '../errors.js';

/** JSON.parse for text a user handed over (a file, stdin): a failure names the source, as BAD_USER_INPUT. */
export function parseJsonInput(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badInput(`${source} is not valid JSON (${err instanceof Error ? err.message : String(err)})`, { source });
  }
}
