/**
 * The paths `flotilla run` writes: `--journal` (opened before the first task) and `--trace` / `--report`
 * (written after the last one). They are checked before anything runs, so a path that cannot be one is a
 * bad option (exit 2, nothing ran), not a failure found after an hour of run.
 */
import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { FlotillaError, messageOf } from "../src/errors.ts";
import type { RunCommandOptions } from "./options.ts";

function badPath(flag: string, path: string, why: string): FlotillaError {
  return new FlotillaError("E_INVALID_OPTION", `${flag} ${path}: ${why}; nothing was run`);
}

/**
 * Throws E_INVALID_OPTION unless `path` can be a file the command writes: its folder exists and is
 * writable, and the path itself is not a folder (an existing file is replaced, or for a journal, resumed).
 */
export function checkFilePath(flag: string, path: string): void {
  const file = resolve(path);
  const folder = dirname(file);
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(folder, { throwIfNoEntry: false });
  } catch (error) {
    throw badPath(flag, path, `its folder ${folder} cannot be read (${messageOf(error)})`);
  }
  if (stats === undefined) throw badPath(flag, path, `its folder ${folder} does not exist`);
  if (!stats.isDirectory()) throw badPath(flag, path, `${folder} is not a folder`);
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw badPath(flag, path, "it is a folder, not a file");
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    throw badPath(flag, path, `its folder ${folder} is not writable`);
  }
}

/** Checks `--journal`, `--trace` and `--report`, each when given. */
export function checkFileFlags(options: Pick<RunCommandOptions, "journal" | "trace" | "report">): void {
  if (options.journal !== undefined) checkFilePath("--journal", options.journal);
  if (options.trace !== undefined) checkFilePath("--trace", options.trace);
  if (options.report !== undefined) checkFilePath("--report", options.report);
}
