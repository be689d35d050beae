import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CycleError, FlotillaError, Job, run, start } from "../src/index.ts";

const noop = () => undefined;

function rejectsWith(code: string, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof FlotillaError, `expected a FlotillaError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

describe("building a job", () => {
  it("refuses a duplicate task id with E_DUPLICATE_TASK naming the job and the id", () => {
    const job = new Job("etl").task("a", noop);
    assert.throws(() => job.task("a", noop), rejectsWith("E_DUPLICATE_TASK", /job "etl" already has a task "a"/));
  });

  it("refuses empty or non-string ids and names", () => {
    assert.throws(() => new Job(""), rejectsWith("E_INVALID_OPTION", /non-empty string/));
    assert.throws(() => new Job("j").task("", noop), rejectsWith("E_INVALID_OPTION", /received string ""/));
    assert.throws(() => new Job("j").task(42 as unknown as string, noop), rejectsWith("E_INVALID_OPTION", /received number 42/));
  });

  it("refuses a body that is not a function", () => {
    assert.throws(
      () => new Job("j").task("a", {}, "echo hi" as never),
      rejectsWith("E_INVALID_OPTION", /task "a": the body must be a function .* received string "echo hi"/),
    );
  });

  const badOptions: [string, object, RegExp][] = [
    ["retries", { retries: -1 }, /task "a": option "retries" must be a non-negative integer, received number -1/],
    ["retries", { retries: 1.5 }, /received number 1.5/],
    ["timeoutMs", { timeoutMs: 0 }, /option "timeoutMs" must be a finite number of milliseconds > 0, received number 0/],
    ["timeoutMs", { timeoutMs: Infinity }, /received number Infinity/],
    ["onFailure", { onFailure: "ignore" }, /option "onFailure" must be "block" or "satisfy", received string "ignore"/],
    ["priority", { priority: "high" }, /option "priority" must be a finite number, received string "high"/],
    ["backoff", { backoff: 100 }, /option "backoff" must be an object/],
    ["backoff.factor", { backoff: { factor: 0.5 } }, /option "backoff.factor" must be a finite number >= 1, received number 0.5/],
    ["backoff.jitter", { backoff: { jitter: 2 } }, /option "backoff.jitter" must be a number from 0 to 1, received number 2/],
    ["backoff.maxMs", { backoff: { initialMs: 500, maxMs: 100 } }, /option "backoff.maxMs" must be a number >= backoff.initialMs \(500\), received number 100/],
    ["backoff keys", { backoff: { initial: 5 } }, /unknown backoff option "initial"/],
    ["dependsOn", { dependsOn: "b" }, /option "dependsOn" must be an array of task ids, received string "b"/],
    ["dependsOn item", { dependsOn: [""] }, /option "dependsOn\[0\]" must be a non-empty task id string/],
    ["dependsOn twice", { dependsOn: ["b", "b"] }, /option "dependsOn" lists "b" twice/],
    ["unknown option", { retry: 2 }, /unknown option "retry" \(did you mean "retries"\?\)/],
    ["retries Infinity", { retries: Infinity }, /option "retries" must be a non-negative integer, received number Infinity/],
    ["timeoutMs NaN", { timeoutMs: NaN }, /option "timeoutMs" .*received number NaN/],
    ["timeoutMs null", { timeoutMs: null }, /option "timeoutMs" .*received null/],
    ["priority NaN", { priority: NaN }, /option "priority" must be a finite number, received number NaN/],
    ["priority Infinity", { priority: Infinity }, /option "priority" must be a finite number, received number Infinity/],
    ["priority -Infinity", { priority: -Infinity }, /received number -Infinity/],
    ["backoff.initialMs -1", { backoff: { initialMs: -1 } }, /option "backoff.initialMs" must be a finite number >= 0, received number -1/],
    ["backoff.initialMs NaN", { backoff: { initialMs: NaN } }, /option "backoff.initialMs" .*received number NaN/],
    ["backoff.initialMs Infinity", { backoff: { initialMs: Infinity } }, /option "backoff.initialMs" .*received number Infinity/],
    ["backoff.factor NaN", { backoff: { factor: NaN } }, /option "backoff.factor" .*received number NaN/],
    ["backoff.maxMs NaN", { backoff: { maxMs: NaN } }, /option "backoff.maxMs" .*received number NaN/],
    ["backoff.jitter -0.1", { backoff: { jitter: -0.1 } }, /option "backoff.jitter" .*received number -0.1/],
    ["backoff null", { backoff: null }, /option "backoff" must be an object .*received null/],
    ["onFailure null", { onFailure: null }, /option "onFailure" .*received null/],
    ["pool empty", { pool: "" }, /option "pool" must be the name of a pool \(a non-empty string\), received string ""/],
    ["pool number", { pool: 5 }, /option "pool" .*received number 5/],
  ];
  for (const [name, options, message] of badOptions) {
    it(`refuses an invalid ${name} with E_INVALID_OPTION and a message naming task, option and value`, () => {
      assert.throws(() => new Job("j").task("a", options as never, noop), rejectsWith("E_INVALID_OPTION", message));
    });
  }

  it("keeps a private copy of dependsOn, so editing the caller's array later changes nothing", async () => {
    const deps = ["a"];
    const job = new Job("j").task("a", () => 1).task("b", { dependsOn: deps as ["a"] }, (ctx) => ctx.deps);
    deps.push("missing");
    const result = await run(job);
    assert.equal(result.status, "succeeded");
    assert.deepEqual(result.output("b"), { a: 1 });
  });
});

describe("starting a run", () => {
  it("rejects an unknown dependency with E_UNKNOWN_DEPENDENCY and a suggestion", async () => {
    const job = new Job<Record<string, unknown>>("etl").task("transform", noop).task("load", { dependsOn: ["transfrom"] }, noop);
    await assert.rejects(
      run(job),
      rejectsWith("E_UNKNOWN_DEPENDENCY", /task "load" depends on unknown task "transfrom" in job "etl" \(did you mean "transform"\?\)/),
    );
  });

  it("rejects a cycle with E_CYCLE naming the whole cycle path", async () => {
    const job = new Job<Record<string, unknown>>("loop")
      .task("start", noop)
      .task("a", { dependsOn: ["start", "c"] }, noop)
      .task("b", { dependsOn: ["a"] }, noop)
      .task("c", { dependsOn: ["b"] }, noop);
    const error = await start(job).result.catch((e: unknown) => e);
    assert.ok(error instanceof CycleError);
    assert.equal(error.code, "E_CYCLE");
    assert.deepEqual(error.path, ["a", "c", "b", "a"]);
    assert.match(error.message, /job "loop" has a dependency cycle: a -> c -> b -> a/);
  });

  it("rejects a task that depends on itself as a cycle", async () => {
    const job = new Job<Record<string, unknown>>("self").task("a", { dependsOn: ["a"] }, noop);
    await assert.rejects(run(job), rejectsWith("E_CYCLE", /a -> a/));
  });

  const badRunOptions: [string, object, RegExp][] = [
    ["concurrency 0", { concurrency: 0 }, /run of job "j": option "concurrency" must be an integer >= 1 or Infinity, received number 0/],
    ["concurrency 2.5", { concurrency: 2.5 }, /received number 2.5/],
    ["signal", { signal: {} }, /option "signal" must be an AbortSignal, received object/],
    ["failFast", { failFast: "yes" }, /option "failFast" must be a boolean, received string "yes"/],
    ["runtime", { runtime: { now: () => 0 } }, /option "runtime" is not a Runtime: missing setTimer, clearTimer, random/],
    ["provider", { provider: { name: "x", run() {} } }, /option "provider" is not a ComputeProvider: missing startNode, stopNode/],
    ["cancelGraceMs", { cancelGraceMs: -1 }, /option "cancelGraceMs" must be a finite number of milliseconds >= 0/],
    ["unknown", { concurency: 2 }, /unknown run option "concurency" \(did you mean "concurrency"\?\)/],
    ["concurrency NaN", { concurrency: NaN }, /option "concurrency" .*received number NaN/],
    ["concurrency -Infinity", { concurrency: -Infinity }, /option "concurrency" .*received number -Infinity/],
    ["cancelGraceMs NaN", { cancelGraceMs: NaN }, /option "cancelGraceMs" .*received number NaN/],
    ["cancelGraceMs Infinity", { cancelGraceMs: Infinity }, /option "cancelGraceMs" .*received number Infinity/],
    ["maxNodeLosses -1", { maxNodeLosses: -1 }, /option "maxNodeLosses" must be an integer >= 0, received number -1/],
    ["maxNodeLosses 1.5", { maxNodeLosses: 1.5 }, /option "maxNodeLosses" .*received number 1.5/],
    ["maxNodeLosses string", { maxNodeLosses: "3" }, /option "maxNodeLosses" .*received string "3"/],
    ["maxNodeLosses Infinity", { maxNodeLosses: Infinity }, /option "maxNodeLosses" .*received number Infinity/],
    ["stopTimeoutMs -1", { stopTimeoutMs: -1 }, /option "stopTimeoutMs" must be a finite number of milliseconds >= 0, received number -1/],
    ["stopTimeoutMs NaN", { stopTimeoutMs: NaN }, /option "stopTimeoutMs" .*received number NaN/],
    ["pools array", { pools: [] }, /option "pools" must be an object of named providers/],
    ["pools entry", { pools: { cpu: 5 } }, /pool "cpu" must be a ComputeProvider object, received number 5/],
    ["provider and pools", { provider: { name: "p", startNode() {}, stopNode() {}, run() {} }, pools: {} }, /give "provider" \(one default pool\) or "pools"/],
    ["options not an object", 5 as never, /options must be an object, received number 5/],
  ];
  for (const [name, options, message] of badRunOptions) {
    it(`rejects the run option ${name} with E_INVALID_OPTION`, async () => {
      await assert.rejects(run(new Job("j").task("a", noop), options as never), rejectsWith("E_INVALID_OPTION", message));
    });
  }

  it("rejects something that is not a Job", async () => {
    await assert.rejects(run({ name: "fake" } as never), rejectsWith("E_INVALID_OPTION", /job must be a Job, received object/));
  });

  it("runs an empty job to success", async () => {
    const result = await run(new Job("empty"));
    assert.equal(result.status, "succeeded");
    assert.equal(result.tasks.size, 0);
  });

  it("can run the same job twice, and tasks added to a run never reach the job", async () => {
    const job = new Job("twice").task("a", () => 1);
    const handle = start(job);
    handle.addTask("extra", () => 2);
    assert.equal((await handle.result).tasks.size, 2);
    const again = await run(job);
    assert.equal(again.tasks.size, 1);
    assert.equal(again.output("a"), 1);
  });
});
