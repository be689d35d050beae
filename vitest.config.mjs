// vitest runs only the files that prove the testing kit works under it; the main suite is node:test.
// Timeouts: 60 s per test and hook, like the node and Deno runs (vitest's 5 s default is too tight for a
// busy 2-core CI machine).
import { defineConfig } from "vitest/config";

export default defineConfig({ test: { include: ["test/vitest/*.vitest.ts"], testTimeout: 60_000, hookTimeout: 60_000 } });
