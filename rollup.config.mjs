// Builds every public entry into dist/ as ESM (.js) and CJS (.cjs), with bundled declarations
// (.d.ts / .d.cts). Dependencies stay external; p-queue is ESM-only, hence interop "auto".
// The `flotilla` command (dist/cli.js, run by bin/flotilla.mjs) is built as ESM only and has no
// declarations: nothing imports it but the bin. It is in the same build as the ESM entries so it shares
// their chunks: a job module's `Job` (from "flotilla") is then the very class the command runs.
import { rmSync } from "node:fs";
import esbuild from "rollup-plugin-esbuild";
import { dts } from "rollup-plugin-dts";

const entries = {
  index: "src/index.ts",
  testing: "src/testing/index.ts",
  "provider-kit": "src/provider-kit/index.ts",
  "child-process": "adapters/child-process/index.ts",
  "worker-threads": "adapters/worker-threads/index.ts",
  "cloud-vm": "adapters/cloud-vm/index.ts",
  "file-journal": "adapters/file-journal/index.ts",
  bullmq: "adapters/bullmq/index.ts",
  report: "src/report/index.ts",
};
// Chunk names carry content hashes: without a clean start, dist/ (and the published package) would keep
// every earlier build's chunks.
rmSync("dist", { recursive: true, force: true });

const external = (id) => !id.startsWith(".") && !id.startsWith("/") && !id.startsWith("\0");

export default [
  {
    input: { ...entries, cli: "cli/main.ts" },
    external,
    plugins: [esbuild({ target: "es2022", tsconfig: "tsconfig.json" })],
    output: { dir: "dist", format: "es", entryFileNames: "[name].js", chunkFileNames: "chunks/[name]-[hash].js" },
  },
  {
    input: entries,
    external,
    plugins: [esbuild({ target: "es2022", tsconfig: "tsconfig.json" })],
    output: { dir: "dist", format: "cjs", entryFileNames: "[name].cjs", chunkFileNames: "chunks/[name]-[hash].cjs", interop: "auto" },
  },
  ...["js", "cts"].map((ext) => ({
    input: entries,
    external,
    plugins: [dts({ tsconfig: "tsconfig.json" })],
    output: {
      dir: "dist",
      format: "es",
      entryFileNames: `[name].d.${ext === "js" ? "ts" : "cts"}`,
      chunkFileNames: `chunks/[name]-[hash].d.${ext === "js" ? "ts" : "cts"}`,
    },
  })),
];
