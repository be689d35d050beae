/**
 * Loaded by `node --import` in the test scripts: a per-test timeout for node:test on Node 20.
 *
 * Node 20's `--test-timeout` is not a per-test limit: every suite and every test FILE inherits it too (the
 * runner wraps each file in a test), so a value fit for one test fails a long file, and when a file times
 * out the report names the file, not the test that hung. The scripts pass a large --test-timeout as the
 * per-file bound; this module adds the per-test one without touching the test files: a root-level
 * beforeEach/afterEach pair (which node:test runs around every test, nested ones included) keeps a
 * watchdog timer. A test still running after the limit is named on stderr and its file's process exits
 * with code 1, so the run reports that file as failed and moves on to the next file.
 *
 * (Giving each test a `{ timeout }` by wrapping `it` would fail just that test, but node:test would then
 * report every failing test's location as this file.) The timer is unref'd: it never keeps a file alive.
 * FLOTILLA_TEST_TIMEOUT_MS sets the limit (default 60000).
 */
import { afterEach, beforeEach } from "node:test";
import { relative } from "node:path";

const limitMs = Number(process.env.FLOTILLA_TEST_TIMEOUT_MS || 60_000);
let watchdog;

beforeEach((t) => {
  clearTimeout(watchdog);
  watchdog = setTimeout(() => {
    const file = relative(process.cwd(), process.argv[1] ?? "?");
    process.stderr.write(
      `\n✖ test "${t.name}" in ${file} did not finish within ${limitMs} ms (per-test timeout, FLOTILLA_TEST_TIMEOUT_MS): ending this file's run\n`,
    );
    process.exit(1);
  }, limitMs);
  watchdog.unref();
});

afterEach(() => clearTimeout(watchdog));
