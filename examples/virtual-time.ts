/**
 * Testing a job's timing without waiting: under flotilla/testing's virtual runtime, an hour of
 * backoff and a 30-second timeout take no real time, and the run is the same every time.
 */
import assert from "node:assert/strict";
import { Job, run } from "flotilla";
import { virtualRuntime } from "flotilla/testing";

const runtime = virtualRuntime({ seed: 7 });
let calls = 0;
const job = new Job("nightly")
  .task("wait-for-window", ({ sleep }) => sleep(60 * 60 * 1000))
  .task("sync", { dependsOn: ["wait-for-window"], retries: 3, timeoutMs: 30_000, backoff: { initialMs: 60_000 } }, async ({ signal }) => {
    if (++calls < 3) {
      // hangs until the timeout aborts it
      await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    }
    return "synced";
  });

const result = await run(job, { runtime });
assert.equal(result.output("sync"), "synced");
assert.equal(result.tasks.get("sync").attempts, 3);
// 1 h window + two 30 s timeouts + backoff of 60 s then 120 s
assert.equal(result.durationMs, 3_600_000 + 30_000 + 60_000 + 30_000 + 120_000);
assert.equal(runtime.pendingTimers, 0);
console.log(`virtual duration ${result.durationMs / 1000} s, ${result.tasks.get("sync").attempts} attempts of sync: ok`);
