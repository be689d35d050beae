// vitest runs only the files that prove the testing kit works under it; the main suite is node:test.
import { defineConfig } from "vitest/config";

export default defineConfig({ test: { include: ["test/vitest/*.vitest.ts"] } });
