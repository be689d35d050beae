/**
 * The allow-list of worker modules: an attempt names a module by a path relative to the agent's
 * modules folder, and only a file whose real path is inside that folder's real path is ever imported.
 * Nothing else received over Redis is loaded or evaluated.
 */
import { realpath } from "node:fs/promises";
import { sep } from "node:path";
import { pathToFileURL } from "node:url";

/** The module's file: URL, or why it is refused. */
export type ModuleResolution = { readonly href: string } | { readonly refused: string };

/**
 * Modules already resolved, by folder and path: a realpath() per attempt was a tenth of an agent's
 * time. Only files found inside are kept, as the real path they resolved to — what is imported — so a
 * symlink changed later cannot lead out of the folder. Bounded: the oldest half goes past 1,000.
 */
const resolved = new Map<string, ModuleResolution>();
const MAX_RESOLVED = 1000;

/** Resolves `path` (relative, POSIX) under `folder` (a real path); never throws. */
export async function resolveModule(folder: string | undefined, path: unknown): Promise<ModuleResolution> {
  const key = `${folder}\0${String(path)}`;
  const known = typeof path === "string" ? resolved.get(key) : undefined;
  if (known !== undefined) return known;
  const resolution = await resolveNow(folder, path);
  if ("href" in resolution) {
    if (resolved.size >= MAX_RESOLVED) for (const old of [...resolved.keys()].slice(0, MAX_RESOLVED / 2)) resolved.delete(old);
    resolved.set(key, resolution);
  }
  return resolution;
}

async function resolveNow(folder: string | undefined, path: unknown): Promise<ModuleResolution> {
  if (folder === undefined) {
    return { refused: "this agent runs no worker modules: it was started without a modules folder (--modules DIR)" };
  }
  const shown = JSON.stringify(path);
  if (typeof path !== "string" || path === "") return { refused: `a module's path must be a non-empty string, received ${shown}` };
  if (path.includes("\0") || path.includes("\\")) return { refused: `module path ${shown} contains a NUL or a backslash` };
  if (path.startsWith("/")) return { refused: `module path ${shown} is absolute; it must be relative to the agent's modules folder` };
  if (path.split("/").includes("..")) return { refused: `module path ${shown} contains "..": it must stay inside the agent's modules folder` };
  let real: string;
  try {
    real = await realpath(`${folder}${sep}${path}`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { refused: `module ${shown} was not found in the agent's modules folder ${folder} (${code ?? "unreadable"})` };
  }
  // A symlink inside the folder that points out of it resolves outside: refused like "..".
  if (!real.startsWith(folder + sep)) return { refused: `module ${shown} resolves to ${real}, outside the agent's modules folder ${folder}` };
  return { href: pathToFileURL(real).href };
}
