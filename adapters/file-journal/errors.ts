/**
 * The errors of flotilla/file-journal. It raises only core's journal codes: E_JOURNAL_FAILED (the file
 * system refused, or the file is damaged), E_JOURNAL_LOCKED (another run holds it) and
 * E_JOURNAL_MISMATCH (another format). This file builds the first from a file system error.
 */
import { FlotillaError, messageOf } from "../../src/errors.ts";

/** What an error of the file system adds to its own message, when its code alone does not say it. */
const HINTS: Record<string, string> = {
  ENOENT: " (does its folder exist?)",
  EISDIR: " (the path is a folder)",
  ENOSPC: " (the disk is full)",
};

/**
 * E_JOURNAL_FAILED for `operation` ("open the file", "append") on the journal `file`, with the file
 * system's error as `cause`. An error that is already a FlotillaError is returned as it is.
 */
export function journalFailed(file: string, operation: string, cause: unknown): FlotillaError {
  if (cause instanceof FlotillaError) return cause;
  const code = codeOf(cause);
  const hint = code !== undefined && Object.hasOwn(HINTS, code) ? HINTS[code] : "";
  return new FlotillaError("E_JOURNAL_FAILED", `file journal "${file}": cannot ${operation}: ${messageOf(cause)}${hint}`, { cause });
}

/** Runs one file system step, turning its failure into E_JOURNAL_FAILED naming `operation`. */
export async function step<T>(file: string, operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw journalFailed(file, operation, error);
  }
}

/** The `code` of a Node or Deno file system error ("ENOENT"), or undefined. Never throws. */
export function codeOf(error: unknown): string | undefined {
  try {
    const code = (error as { code?: unknown } | null | undefined)?.code;
    return typeof code === "string" ? code : undefined;
  } catch {
    return undefined;
  }
}
