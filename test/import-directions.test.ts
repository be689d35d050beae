/**
 * The package's layers may only depend one way:
 *
 *   adapters/<a>/ ──► src/ (core)        src/testing/ (the kit) ──► src/ (core)
 *   cli/ (the command line) ──► core, the kit and adapters
 *
 * core (src/ outside src/testing/) imports neither the kit nor an adapter, the kit imports no adapter,
 * an adapter imports no other adapter, and nothing in src/ or adapters/ imports the command line.
 * Every import of every source file in src/, adapters/ and cli/ is
 * read — static `import`/`export … from` (`import type` included), side-effect `import "…"`, dynamic
 * `import("…")` and type-position `import("…")` — its path resolved, and checked. Tests, examples and
 * benchmarks may import anything and are not scanned.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;

// ---- reading specifiers ------------------------------------------------------------------------------

interface ImportSite {
  readonly specifier: string;
  readonly line: number;
}

/** Keywords after which a `/` starts a regular expression, not a division. */
const BEFORE_REGEX = new Set(["return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else", "yield", "await"]);

type Token = { kind: "name"; text: string } | { kind: "string"; text: string; line: number } | { kind: "punct"; text: string };

/**
 * Splits source text into names, string literals (with their line) and punctuation, skipping comments,
 * template literal text and regular expressions. Enough of a tokenizer to find import specifiers without
 * being fooled by an import written in a comment or a string.
 */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  // One entry per open `${` of a template literal: how many `{` opened inside it are still open.
  const templates: number[] = [];
  let line = 1;
  let i = 0;
  const last = () => tokens[tokens.length - 1];
  const regexAllowed = () => {
    const t = last();
    if (t === undefined) return true;
    if (t.kind === "string") return false;
    if (t.kind === "name") return BEFORE_REGEX.has(t.text);
    return t.text !== ")" && t.text !== "]" && t.text !== "}";
  };
  /** Reads template text from i (just after "`" or a closing "}") to the closing "`" or the next "${". */
  const templateText = (startLine: number): void => {
    let value = "";
    while (i < text.length) {
      const c = text[i]!;
      if (c === "\\") {
        value += text.slice(i, i + 2);
        if (text[i + 1] === "\n") line++;
        i += 2;
      } else if (c === "`") {
        i++;
        // A template without substitutions is a plain string (`import(\`./x.ts\`)`).
        tokens.push({ kind: "string", text: value, line: startLine });
        return;
      } else if (c === "$" && text[i + 1] === "{") {
        i += 2;
        templates.push(0);
        tokens.push({ kind: "punct", text: "${" });
        return;
      } else {
        if (c === "\n") line++;
        value += c;
        i++;
      }
    }
  };
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === "/" && next === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end === -1 ? text.length : end + 2;
      for (let j = i; j < stop; j++) if (text[j] === "\n") line++;
      i = stop;
    } else if (c === '"' || c === "'") {
      const startLine = line;
      let value = "";
      i++;
      while (i < text.length && text[i] !== c && text[i] !== "\n") {
        if (text[i] === "\\") {
          value += text.slice(i, i + 2);
          i += 2;
        } else value += text[i++];
      }
      i++;
      tokens.push({ kind: "string", text: value, line: startLine });
    } else if (c === "`") {
      i++;
      templateText(line);
    } else if (c === "}" && templates.length > 0 && templates[templates.length - 1] === 0) {
      // The end of a `${…}` substitution: the template's text goes on.
      templates.pop();
      i++;
      tokens.push({ kind: "punct", text: "}" });
      templateText(line);
    } else if (c === "/" && regexAllowed()) {
      let inClass = false;
      i++;
      while (i < text.length && text[i] !== "\n") {
        const r = text[i]!;
        if (r === "\\") i += 2;
        else {
          i++;
          if (r === "[") inClass = true;
          else if (r === "]") inClass = false;
          else if (r === "/" && !inClass) break;
        }
      }
      while (i < text.length && /[a-z]/i.test(text[i]!)) i++; // flags
      tokens.push({ kind: "punct", text: "/regex/" });
    } else if (/[A-Za-z_$\d]/.test(c)) {
      let j = i + 1;
      while (j < text.length && /[\w$]/.test(text[j]!)) j++;
      tokens.push({ kind: "name", text: text.slice(i, j) });
      i = j;
    } else {
      if (templates.length > 0) {
        if (c === "{") templates[templates.length - 1]!++;
        else if (c === "}") templates[templates.length - 1]!--;
      }
      tokens.push({ kind: "punct", text: c });
      i++;
    }
  }
  return tokens;
}

/**
 * The module specifiers a source file names, with their lines: `import … from "x"`, `import type … from
 * "x"`, `export … from "x"`, `import "x"`, `import("x")` (a dynamic import or a type-position
 * `typeof import("x")`). A dynamic import of a computed value has no specifier to check and is skipped.
 */
function importSpecifiers(text: string): ImportSite[] {
  const tokens = tokenize(text);
  const sites: ImportSite[] = [];
  tokens.forEach((t, k) => {
    if (t.kind !== "name" || (t.text !== "from" && t.text !== "import")) return;
    // A property or method named `from`/`import` (`Array.from("x")`, `x.import`) is not an import.
    const before = tokens[k - 1];
    if (before?.kind === "punct" && before.text === ".") return;
    let target = tokens[k + 1];
    if (t.text === "import" && target?.kind === "punct" && target.text === "(") target = tokens[k + 2];
    if (target?.kind === "string") sites.push({ specifier: target.text, line: target.line });
  });
  return sites;
}

// ---- classifying -------------------------------------------------------------------------------------

type Layer = { kind: "core" } | { kind: "kit" } | { kind: "adapter"; name: string } | { kind: "cli" } | { kind: "other" };

/** Which layer a repository-relative path (forward slashes) belongs to. */
function layerOf(path: string): Layer {
  const adapter = /^adapters\/([^/]+)\//.exec(path);
  if (adapter) return { kind: "adapter", name: adapter[1]! };
  if (path.startsWith("cli/")) return { kind: "cli" };
  if (path.startsWith("src/testing/")) return { kind: "kit" };
  if (path.startsWith("src/")) return { kind: "core" };
  return { kind: "other" };
}

const packageName = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name: string }).name;

/**
 * The repository-relative path a specifier names, or undefined for another package or a Node/Deno
 * built-in. The package's own name resolves to its sources: `<pkg>` → src/index.ts, `<pkg>/testing` →
 * the kit, `<pkg>/provider-kit` → src/provider-kit, `<pkg>/<adapter>` → that adapter.
 */
function resolveSpecifier(fromFile: string, specifier: string): string | undefined {
  if (specifier.startsWith("./") || specifier.startsWith("../")) {
    return relative(root, resolve(root, dirname(fromFile), specifier))
      .split(sep)
      .join("/");
  }
  if (specifier === packageName) return "src/index.ts";
  if (specifier.startsWith(`${packageName}/`)) {
    const subpath = specifier.slice(packageName.length + 1);
    if (subpath === "testing" || subpath === "provider-kit") return `src/${subpath}/index.ts`;
    return `adapters/${subpath}/index.ts`;
  }
  return undefined;
}

const RULES = {
  coreToKit: "core (src/ outside src/testing/) must not import the testing kit (src/testing/)",
  coreToAdapter: "core (src/ outside src/testing/) must not import an adapter (adapters/)",
  kitToAdapter: "the testing kit (src/testing/) must not import an adapter (adapters/)",
  adapterToAdapter: "an adapter must not import another adapter",
  toCli: "nothing in src/ or adapters/ may import the command line (cli/)",
} as const;

/** The rule an import from `fromFile` of `specifier` breaks, or undefined when the direction is allowed. */
function forbiddenImport(fromFile: string, specifier: string): string | undefined {
  const target = resolveSpecifier(fromFile, specifier);
  if (target === undefined) return undefined;
  const from = layerOf(fromFile);
  const to = layerOf(target);
  if (from.kind === "core" && to.kind === "kit") return RULES.coreToKit;
  if (from.kind === "core" && to.kind === "adapter") return RULES.coreToAdapter;
  if (from.kind === "kit" && to.kind === "adapter") return RULES.kitToAdapter;
  if (from.kind === "adapter" && to.kind === "adapter" && from.name !== to.name) return RULES.adapterToAdapter;
  if (to.kind === "cli" && from.kind !== "cli" && from.kind !== "other") return RULES.toCli;
  return undefined;
}

/** One message per forbidden import in a file's text: file, line, specifier, where it leads and the rule. */
function checkFile(file: string, text: string): string[] {
  return importSpecifiers(text).flatMap(({ specifier, line }) => {
    const rule = forbiddenImport(file, specifier);
    return rule === undefined ? [] : [`${file}:${line}: import "${specifier}" (${resolveSpecifier(file, specifier)}): ${rule}`];
  });
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(join(root, dir))) return [];
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    return statSync(join(root, path)).isDirectory() ? sourceFiles(path) : SOURCE.test(name) ? [path] : [];
  });
}

/**
 * The import cycles among `files` (type-only imports included: a cycle of types still ties two modules
 * together), each as the files around it, first repeated at the end. Depth-first search; each cycle is
 * reported once, from the first file of it the search meets.
 */
function importCycles(files: readonly string[], importsOf: (file: string) => readonly string[]): string[][] {
  const known = new Set(files);
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string): void => {
    state.set(file, "open");
    stack.push(file);
    for (const target of importsOf(file)) {
      if (!known.has(target)) continue;
      if (state.get(target) === "open") cycles.push([...stack.slice(stack.indexOf(target)), target]);
      else if (state.get(target) === undefined) visit(target);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of files) if (state.get(file) === undefined) visit(file);
  return cycles;
}

// ---- tests -------------------------------------------------------------------------------------------

describe("import directions", () => {
  it("no source file in src/, adapters/ or cli/ imports across a forbidden direction", () => {
    const files = [...sourceFiles("src"), ...sourceFiles("adapters"), ...sourceFiles("cli")];
    let imports = 0;
    const violations = files.flatMap((file) => {
      const text = readFileSync(join(root, file), "utf8");
      imports += importSpecifiers(text).length;
      return checkFile(file, text);
    });
    // A scan that found nothing would pass without checking anything.
    assert.ok(
      files.some((f) => f.startsWith("src/testing/")) && files.some((f) => f.startsWith("adapters/")) && files.some((f) => f.startsWith("cli/")),
      `scanned ${files.join(", ")}`,
    );
    assert.ok(imports > files.length, `read only ${imports} imports in ${files.length} files`);
    assert.deepEqual(violations, [], `forbidden imports:\n${violations.join("\n")}`);
  });

  it("no module of src/, adapters/ or cli/ is part of an import cycle, type-only imports included", () => {
    const files = [...sourceFiles("src"), ...sourceFiles("adapters"), ...sourceFiles("cli")];
    const importsOf = (file: string) =>
      importSpecifiers(readFileSync(join(root, file), "utf8")).flatMap(({ specifier }) => resolveSpecifier(file, specifier) ?? []);
    const cycles = importCycles(files, importsOf);
    assert.deepEqual(
      cycles.map((c) => c.join(" -> ")),
      [],
      "each module of a cycle needs the others: move what they share into a module of its own",
    );
  });

  it("finds an import cycle, type-only or not, and names its modules in order", () => {
    const graph: Record<string, string[]> = { "a.ts": ["b.ts"], "b.ts": ["c.ts", "x.ts"], "c.ts": ["a.ts"], "d.ts": ["a.ts"], "e.ts": [] };
    assert.deepEqual(
      importCycles(Object.keys(graph), (f) => graph[f]!),
      [["a.ts", "b.ts", "c.ts", "a.ts"]],
    );
    assert.deepEqual(
      importCycles(["e.ts", "d.ts"], (f) => graph[f]!),
      [],
    );
  });

  it("reads every form of import, with its line, and none in comments, strings or regular expressions", () => {
    const text = [
      'import { a, type B } from "./a.ts";', // 1
      'import type { C } from "./c.ts";', // 2
      "import {", // 3
      "  d,", // 4
      "} from './d.ts';", // 5
      'export { e } from "./e.ts";', // 6
      'export * as f from "./f.ts";', // 7
      'import "./side-effect.ts";', // 8
      'const g = await import("./g.ts");', // 9
      'type H = typeof import("./h.ts");', // 10
      "const i = import(`./i.ts`);", // 11
      '// import { x } from "./comment.ts";', // 12
      '/* export * from "./block-comment.ts"; */', // 13
      'const s = "import { y } from \\"./string.ts\\"";', // 14
      'const re = /from "\\.\\/regex.ts"|import("x")/;', // 15
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal
      'const t = `import { z } from "./template.ts" ${import("./in-template.ts")} done`;', // 16
      'const list = Array.from("abc"); const dyn = import(name);', // 17
      "export const from = 1;", // 18
    ].join("\n");
    assert.deepEqual(importSpecifiers(text), [
      { specifier: "./a.ts", line: 1 },
      { specifier: "./c.ts", line: 2 },
      { specifier: "./d.ts", line: 5 },
      { specifier: "./e.ts", line: 6 },
      { specifier: "./f.ts", line: 7 },
      { specifier: "./side-effect.ts", line: 8 },
      { specifier: "./g.ts", line: 9 },
      { specifier: "./h.ts", line: 10 },
      { specifier: "./i.ts", line: 11 },
      { specifier: "./in-template.ts", line: 16 },
    ]);
  });

  it("reports each forbidden direction, naming the file, line, specifier and rule", () => {
    const bad: [file: string, specifier: string, rule: string][] = [
      ["src/executor.ts", "../adapters/x/y.ts", RULES.coreToAdapter],
      ["src/executor.ts", "./testing/index.ts", RULES.coreToKit],
      ["src/executor.ts", "flotilla/testing", RULES.coreToKit],
      ["src/executor.ts", "flotilla/worker-threads", RULES.coreToAdapter],
      ["src/testing/explore.ts", "../../adapters/child-process/index.ts", RULES.kitToAdapter],
      ["src/testing/explore.ts", "flotilla/child-process", RULES.kitToAdapter],
      ["adapters/child-process/provider.ts", "../worker-threads/wire.ts", RULES.adapterToAdapter],
      ["adapters/worker-threads/a/b.ts", "../../child-process/index.ts", RULES.adapterToAdapter],
      ["src/executor.ts", "../cli/job-file/index.ts", RULES.toCli],
      ["src/testing/explore.ts", "../../cli/main.ts", RULES.toCli],
      ["adapters/child-process/provider.ts", "../../cli/job-file/load.ts", RULES.toCli],
    ];
    for (const [file, specifier, rule] of bad) assert.equal(forbiddenImport(file, specifier), rule, `${file} importing ${specifier}`);

    const allowed: [file: string, specifier: string][] = [
      ["src/executor.ts", "./errors.ts"],
      ["src/executor.ts", "eventemitter3"],
      ["src/testing/explore.ts", "../errors.ts"],
      ["src/testing/explore.ts", "./strategies.ts"],
      ["src/testing/explore.ts", "flotilla"],
      ["adapters/child-process/provider.ts", "../../src/errors.ts"],
      ["adapters/child-process/provider.ts", "./command.ts"],
      ["adapters/child-process/provider.ts", "node:child_process"],
      ["adapters/worker-threads/provider.ts", "../../src/testing/index.ts"],
      ["test/anything.test.ts", "../adapters/worker-threads/index.ts"],
      ["examples/demo.ts", "flotilla/testing"],
      ["cli/job-file/load.ts", "../../src/job.ts"],
      ["cli/job-file/dry-run.ts", "../../src/testing/index.ts"],
      ["cli/job-file/bodies.ts", "../../adapters/child-process/index.ts"],
      ["cli/main.ts", "./job-file/index.ts"],
      ["cli/main.ts", "flotilla/worker-threads"],
      ["cli/main.ts", "zod"],
      ["test/job-file.test.ts", "../cli/job-file/index.ts"],
    ];
    for (const [file, specifier] of allowed) assert.equal(forbiddenImport(file, specifier), undefined, `${file} importing ${specifier}`);

    const text = ['import { ok } from "./errors.ts";', "", 'import type { Spec } from "../adapters/worker-threads/wire.ts";'].join("\n");
    assert.deepEqual(checkFile("src/job.ts", text), [
      `src/job.ts:3: import "../adapters/worker-threads/wire.ts" (adapters/worker-threads/wire.ts): ${RULES.coreToAdapter}`,
    ]);
  });
});
