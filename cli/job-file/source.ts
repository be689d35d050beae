/**
 * Reading a job file: YAML (`.yaml`, `.yml`) and JSON (`.json`) are parsed keeping each value's line
 * and column for the problems; a module (`.mjs`, `.js`, `.cjs`, `.mts`, `.ts`) is imported and its
 * default export (or its export `job`) is a job file object or a flotilla Job.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, extname, isAbsolute, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isMap, isScalar, isSeq, LineCounter, type Pair, parseDocument, type Node as YamlNode } from "yaml";
import { messageOf } from "../../src/errors.ts";
import { graphOf, type Job } from "../../src/job.ts";
import { JobFileError } from "./errors.ts";
import type { DataPath, Locate } from "./problems.ts";

interface Origin {
  /** Absolute path. */
  readonly file: string;
  /** As messages name it: relative to the current directory when inside it. */
  readonly shown: string;
  /** The folder paths in the file are relative to. */
  readonly dir: string;
}

/** What a job file holds: data to check (with positions for YAML and JSON), or a Job built by a module. */
export type JobSource =
  | (Origin & { readonly kind: "data"; readonly data: unknown; readonly locate: Locate | undefined })
  | (Origin & { readonly kind: "job"; readonly job: Job<any>; readonly pools: unknown });

const DATA = [".yaml", ".yml", ".json"];
const MODULES = [".mjs", ".js", ".cjs", ".mts", ".cts", ".ts"];

/** Reads and parses a job file; throws JobFileError when it is missing, unreadable or not parseable. */
export async function readJobSource(path: string): Promise<JobSource> {
  if (typeof path !== "string" || path.length === 0) throw new JobFileError(String(path), [{ path: "", message: "expected the path of a job file" }]);
  const file = resolve(path);
  const rel = relative(process.cwd(), file);
  const origin: Origin = { file, shown: rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file, dir: dirname(file) };
  const fail = (message: string, at: { line: number; column: number } | undefined = undefined, cause?: unknown): never => {
    throw new JobFileError(origin.shown, [{ path: "", message, ...(at ?? {}) }], cause === undefined ? undefined : { cause });
  };
  const ext = extname(file).toLowerCase();
  if (!DATA.includes(ext) && !MODULES.includes(ext)) {
    fail(`expected a job file ending in ${[...DATA, ...MODULES].join(", ")}, found "${ext || "no extension"}"`);
  }
  const info = await stat(file).catch((error: unknown) => fail(`cannot read the file: ${messageOf(error)}`, undefined, error));
  if (!info.isFile()) fail("expected a file, found a directory or another kind of entry");
  if (MODULES.includes(ext)) return readModule(origin, fail);
  const text = await readFile(file, "utf8").catch((error: unknown) => fail(`cannot read the file: ${messageOf(error)}`, undefined, error));
  if (ext === ".json") {
    try {
      JSON.parse(text);
    } catch (error) {
      fail(`invalid JSON: ${messageOf(error)}`, jsonErrorPosition(text, messageOf(error)), error);
    }
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // Only the first: the parser's recovery makes every later token of a broken line an error of its own.
    const first = doc.errors[0]!;
    const { line, col } = lines.linePos(first.pos[0]);
    const more = doc.errors.length > 1 ? ` (the ${doc.errors.length - 1} errors the parser found after it may follow from it)` : "";
    const source = text.split("\n")[line - 1] ?? "";
    // `id: shard-${i}` is fine in block style, but `{ id: shard-${i} }` opens a mapping at its brace.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder as a job file writes it
    const hint = source.includes("${") ? '; a value with ${i} inside { } or [ ] must be quoted: "shard-${i}"' : "";
    throw new JobFileError(origin.shown, [
      { path: "", message: `invalid ${ext === ".json" ? "JSON" : "YAML"}: ${first.message}${hint}${more}`, line, column: col },
    ]);
  }
  const locate: Locate = (at, key) => {
    const node = nodeAt(doc.contents as YamlNode | null, at, key);
    const offset = node?.range?.[0];
    if (offset === undefined) return undefined;
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  return { ...origin, kind: "data", data: doc.toJS({ maxAliasCount: 10_000 }), locate };
}

/** The node at `path` (or its nearest ancestor); with `key`, the key of that name in the map there. */
function nodeAt(root: YamlNode | null, path: DataPath, key: string | undefined): YamlNode | undefined {
  let node: YamlNode | null | undefined = root;
  const parts = key === undefined ? path : [...path, key];
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k]!;
    let next: YamlNode | null | undefined;
    if (isMap(node)) {
      const pair: Pair | undefined = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(part));
      // The `key` is pointed at by its name (an unknown key); the other parts by their value.
      const atKey = key !== undefined && k === parts.length - 1;
      next = pair === undefined ? undefined : atKey ? (pair.key as YamlNode) : ((pair.value as YamlNode | null) ?? (pair.key as YamlNode));
    } else if (isSeq(node) && typeof part === "number") next = node.items[part] as YamlNode | undefined;
    if (next === undefined || next === null) return node ?? undefined;
    node = next;
  }
  return node ?? undefined;
}

/** The line and column of a JSON.parse error, from its "position N" (Node) or "line L column C" (Deno). */
function jsonErrorPosition(text: string, message: string): { line: number; column: number } | undefined {
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) return { line: Number(lc[1]), column: Number(lc[2]) };
  const at = /position (\d+)/.exec(message);
  if (!at) return undefined;
  const before = text.slice(0, Number(at[1]));
  const line = before.split("\n").length;
  return { line, column: Number(at[1]) - before.lastIndexOf("\n") };
}

async function readModule(origin: Origin, fail: (message: string, at?: undefined, cause?: unknown) => never): Promise<JobSource> {
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(origin.file).href)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const hint =
      code === "ERR_UNKNOWN_FILE_EXTENSION"
        ? " (this runtime cannot load TypeScript: use Deno, Node 22.18 or later, or node --import tsx, or write the job as .mjs)"
        : "";
    return fail(`the module could not be loaded: ${messageOf(error)}${hint}`, undefined, error);
  }
  const value = exports.default ?? exports.job;
  if (graphOf(value) !== undefined) return { ...origin, kind: "job", job: value as Job<any>, pools: exports.pools };
  if (looksLikeJob(value)) {
    fail(
      "expected a job file object or a Job of the flotilla this command runs, found a Job of another copy of flotilla: import Job from the same installation as the command",
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(
      `expected a default export (or an export named "job") that is a job file object { name, pools, tasks } or a flotilla Job, found ${value === undefined ? "none" : typeof value}`,
    );
  }
  return { ...origin, kind: "data", data: value, locate: undefined };
}

/** A Job made by another copy of the library: its class is not ours, so graphOf cannot read it. */
function looksLikeJob(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const v = value as { task?: unknown; has?: unknown; name?: unknown };
  return typeof v.task === "function" && typeof v.has === "function" && typeof v.name === "string";
}
