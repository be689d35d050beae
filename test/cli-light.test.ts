/**
 * The command line costs `import "flotilla"` nothing: no module of the library (src/, adapters/) imports
 * cli/ or the command's packages, and no public entry of the build loads them; only dist/cli.js (the
 * bin's) does. Reads dist/: needs `npm run -s build`.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const CLI_PACKAGES = ["commander", "log-update", "cli-table3"];
const PUBLIC_ENTRIES = ["index", "testing", "provider-kit", "child-process", "worker-threads", "cloud-vm"];

/** The specifiers of a module's static imports, re-exports and dynamic imports of a literal. */
function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|\bimport\s*["']([^"']+)["']/g))
    found.push(m[1] ?? m[2] ?? m[3]!);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    return statSync(join(root, path)).isDirectory() ? sourceFiles(path) : /\.(ts|mts|js|mjs)$/.test(name) ? [path] : [];
  });
}

/** The packages a built module loads, following its relative imports (the chunks) all the way. */
function packagesLoadedBy(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of specifiers(readFileSync(file, "utf8"))) {
      if (specifier.startsWith(".")) visit(resolve(dirname(file), specifier));
      else packages.add(specifier);
    }
  };
  visit(join(root, "dist", `${entry}.js`));
  return packages;
}

describe("cli: import flotilla stays light", () => {
  it("no module of src/ or adapters/ imports cli/ or the command's packages", () => {
    const files = [...sourceFiles("src"), ...sourceFiles("adapters")];
    assert.ok(files.length > 50, `scanned ${files.length} files`);
    const offending = files.flatMap((file) =>
      specifiers(readFileSync(join(root, file), "utf8"))
        .filter((s) => CLI_PACKAGES.includes(s) || (s.startsWith(".") && relative(root, resolve(root, dirname(file), s)).startsWith("cli")))
        .map((s) => `${file}: ${s}`),
    );
    assert.deepEqual(offending, []);
  });

  it("no public entry of the build loads commander, log-update or cli-table3; dist/cli.js loads all three", {
    skip: !existsSync(join(root, "dist", "cli.js")) && "needs npm run -s build",
  }, () => {
    for (const entry of PUBLIC_ENTRIES) {
      const loaded = packagesLoadedBy(entry);
      assert.deepEqual(
        CLI_PACKAGES.filter((p) => loaded.has(p)),
        [],
        `dist/${entry}.js loads ${[...loaded].join(", ")}`,
      );
    }
    const cli = packagesLoadedBy("cli");
    for (const p of CLI_PACKAGES) assert.ok(cli.has(p), `dist/cli.js loads ${p} (the walk above would see it)`);
  });
});
