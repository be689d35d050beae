/**
 * Runs every program in examples/ as its own process (against the built package, as a user would)
 * and checks what it prints. A process that exits on its own also proves the run left no timer,
 * listener or handle behind; the kill bound (50 s, under the suite's 60 s per-test limit so the
 * failure shows the example's exit and stderr) only stops a hung example from hanging the suite.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

function runExample(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", `examples/${file}`], { cwd: root, timeout: 50_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
    });
  });
}

const expectations: Record<string, RegExp[]> = {
  "demo.ts": [
    /job "release" succeeded in \d+ ms/,
    /21 succeeded, 0 failed, 0 cancelled, 0 skipped/,
    /upload: succeeded after 2 attempts/,
    /announce -> released s3:\/\/releases\/v1\.2\.3\.tgz/,
    /critical path: checkout -> build:\S+ -> .* -> bundle -> upload -> announce/,
    /report written to \S+report\.html \(open it in a browser\)/,
  ],
  "remote-agents.ts": [/^succeeded: primes below 200000: 17984 \(on agents east, west\)$/m],
  "etl.ts": [/^succeeded 4 \(load took 2 attempts\)$/m],
  "resume.ts": [
    /first run: failed \(3 succeeded; ran extract, clean, chart, publish\)/,
    /resumed: succeeded; restored extract, clean, chart; ran publish, notify/,
    /mailed: published chart of 1163 rows/,
  ],
  "cancel.ts": [/status: cancelled/, /archive: cancelled, archive-report: skipped/, /"succeeded":15/, /page budget reached/],
  "virtual-time.ts": [/virtual duration 3840 s, 3 attempts of sync: ok/],
  "explore-signup-race.ts": [
    /found after \d+ schedule\(s\): duplicate key "ada"/,
    /call db\.get -> call db\.get -> call db\.insert -> call db\.insert/,
    /replayed: the same failure at step \d+/,
    /fixed: 500 schedules passed/,
  ],
  "worker-threads.ts": [
    /requeued flaky: node "worker-thread-\d" was lost running task "flaky" attempt 1: its worker thread exited with code 1/,
    /^chunk3: 150000\.\.200000: 4136 primes$/m,
    /primes below 200000: 17984 \(4 chunks on 2 threads\)/,
    /flaky: ok on attempt 2 after 1 requeue/,
    /slow: failed with E_TIMEOUT/,
  ],
  "custom-provider.ts": [
    /^\[long-shot\] frame 7 ignored the stop request and was killed after 30 ms$/m,
    /^encode: 6 frames$/m,
    /^frame-3: frame 3 on farm-N$/m,
    /^long-shot: failed with E_TIMEOUT/m,
    /^declared by render-farm-example: E_FRAME_KILLED$/m,
  ],
  "explore-faults.ts": [/300 schedules passed in \d+ ms; faults fired: \{.*"task\.attempt":\d+/],
  "cloud-vm.ts": [
    /^succeeded: primes below 200000: 17984 \(0 VMs left\)$/m,
    /^requeued slow: .*local VM ".*": its process was killed by SIGKILL$/m,
    /^then: slow cancelled on its second VM \(0 VMs left\)$/m,
    /^throttled create retried: node vm-2 after 10 virtual minutes$/m,
  ],
  "capacity-planning.ts": [
    /^autoscale setting\s+makespan\s+peak nodes\s+cost\s+preemptions\s+utilization\s*$/m,
    /^20 dedicated, fixed\s+[\d.]+ min\s+20\s+\$[\d.]+/m,
    /^up to 100 dedicated\s+[\d.]+ min\s+\d+\s+\$[\d.]+/m,
    /^10 dedicated \+ 150 spot\s+[\d.]+ min\s+\d+\s+\$[\d.]+/m,
    /^3 plans of a 2000-task job in (under a second|[\d.]+ s) of real time$/m,
  ],
  "child-process.ts": [
    /^summary: words=3 files=3$/m,
    /^ {2}\[summary stdout\] words=3 files=3$/m,
    /^lint failed with exit code 3: src\/a\.ts: unused variable$/m,
    /^slow: E_TIMEOUT/m,
    /^failed: 3 succeeded, 2 failed$/m,
  ],
};

describe("examples", () => {
  it("every example has expectations here", () => {
    assert.deepEqual(
      readdirSync(new URL("../../examples/", import.meta.url))
        .filter((f) => f.endsWith(".ts"))
        .sort(),
      Object.keys(expectations).sort(),
    );
  });
  for (const [file, patterns] of Object.entries(expectations)) {
    it(`${file} runs, prints what it promises and exits on its own`, async () => {
      const { code, stdout, stderr } = await runExample(file);
      assert.equal(code, 0, `exit code; stderr:\n${stderr}`);
      for (const pattern of patterns) assert.match(stdout, pattern);
    });
  }
});
