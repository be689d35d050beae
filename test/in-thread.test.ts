/**
 * `inThread()` of flotilla/worker-threads, against the BUILT package (dist/): workerTask bodies run in
 * the calling thread. Its bodies (test/fixtures/in-thread/) run in this very thread, so the test
 * imports the same module instance and opens their gates itself: nothing waits on time.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { taskContext } from "./helpers.ts";
// Deno does not look for a .d.ts beside a .js file by itself; tsc does, and ignores these comments.
// @ts-types="../dist/index.d.ts"
import { Job, NodeLostError, inProcess, isFlotillaError, run, start } from "../dist/index.js";
// @ts-types="../dist/testing.d.ts"
import { explore, providerContract } from "../dist/testing.js";
// @ts-types="../dist/worker-threads.d.ts"
import { inThread, workerTask, type WorkerTaskSpec } from "../dist/worker-threads.js";
import { finished, open } from "./fixtures/in-thread/tasks.mjs";

const tasks = new URL("./fixtures/in-thread/tasks.mjs", import.meta.url);
const workerTasks = new URL("./fixtures/worker/tasks.mjs", import.meta.url);
const report = { lost: () => {}, preempted: () => {} };
const isDeno = "Deno" in globalThis;

/** Resolves when task `taskId` logs `line` (a task:output event): the body is running. */
function logged(handle: ReturnType<typeof start>, taskId: string, line: string): Promise<void> {
  return new Promise((resolve) => handle.on("task:output", (e) => e.taskId === taskId && e.line === line && resolve()));
}

describe("inThread()", () => {
  describe("provider contract", () => {
    for (const check of providerContract<WorkerTaskSpec>({
      provider: () => inThread({ abandonGraceMs: 100 }),
      bodies: {
        returns: (value) => workerTask(workerTasks, "returns", value),
        fails: (message) => workerTask(workerTasks, "fails", message),
        echoesDeps: () => workerTask(workerTasks, "echoDeps"),
        waitsForAbort: () => workerTask(workerTasks, "honoursSignal"),
      },
    })) {
      it(check.name, check.run);
    }
  });

  it("passes input, dependency outputs and output as they are: a function in the input, the very object back", async () => {
    const input = { fn: (base: number) => base + 40 };
    const job = new Job("in-thread")
      .task("base", { pool: "main" }, () => 2)
      .task("calls", { dependsOn: ["base"] }, workerTask<number>(tasks, "callsInput", input))
      .task("same", workerTask(tasks, "sameInput", input));
    const lines: string[] = [];
    const handle = start(job, { pools: { default: inThread(), main: inProcess() } });
    handle.on("task:output", (e) => lines.push(`${e.taskId}: ${e.line}`));
    const result = await handle.result;
    assert.equal(result.status, "succeeded");
    assert.equal(result.tasks.get("calls")!.output, 42);
    assert.equal(result.tasks.get("same")!.output, input, "not a clone");
    assert.deepEqual(lines, ["calls: calls attempt 1"]);
  });

  it("settles the attempt of a body that ignores its abort abandonGraceMs after it, and leaves the body to run on", async () => {
    const job = new Job("in-thread").task("deaf", workerTask(tasks, "waitsIgnoringSignal", "deaf"));
    // The run would wait 10 s before abandoning the attempt itself: the provider must settle it first.
    const handle = start(job, { provider: inThread({ abandonGraceMs: 20 }), cancelGraceMs: 10_000 });
    const abandoned: string[] = [];
    handle.on("task:abandoned", (e) => abandoned.push(e.taskId));
    await logged(handle, "deaf", "started");
    handle.cancel("enough");
    const result = await handle.result;
    assert.equal(result.tasks.get("deaf")!.status, "cancelled");
    assert.deepEqual(abandoned, [], "settled by the provider, not abandoned by the run");
    assert.deepEqual(finished, [], "the body still runs");
    open("deaf");
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(finished, ["deaf"], "it ran on; its result was dropped");
  });

  it("never calls a body whose attempt was cancelled while its module loaded", async () => {
    let release!: () => void;
    (globalThis as { inThreadLoadGate?: Promise<void> }).inThreadLoadGate = new Promise<void>((resolve) => (release = resolve));
    const slow = new URL("./fixtures/in-thread/loads-slowly.mjs", import.meta.url);
    const handle = start(new Job("in-thread").task("slow", workerTask(slow, "body", "ran")), { provider: inThread() });
    await new Promise<void>((resolve) => handle.on("task:start", () => resolve()));
    handle.cancel("before it loads");
    const result = await handle.result;
    assert.equal(result.tasks.get("slow")!.status, "cancelled");
    release();
    const { called } = (await import(slow.href)) as { called: unknown[] };
    await new Promise((resolve) => setImmediate(resolve)); // what the module's load set off has run
    assert.deepEqual(called, []);
  });

  it("fails a missing export (naming the exports, with a hint), an export that is not a function, and a module that throws as it loads", async () => {
    const broken = new URL("./fixtures/in-thread/broken.mjs", import.meta.url);
    const job = new Job("in-thread")
      .task("missing", workerTask(tasks, "sameinput"))
      .task("value", workerTask(tasks, "notAFunction"))
      .task("broken", workerTask(broken, "anything"));
    const result = await run(job, { provider: inThread() });
    const error = (id: string) => result.tasks.get(id)!.error as Error;
    assert.ok(isFlotillaError(error("missing"), "E_WORKER_FAILED"));
    assert.match(
      error("missing").message,
      /^task "missing": module .*tasks\.mjs has no export "sameinput" \(did you mean "sameInput"\?\); its exports: .*callsInput/,
    );
    assert.match(error("value").message, /export "notAFunction" of module .*tasks\.mjs is a number, not a function/);
    assert.ok(isFlotillaError(error("broken"), "E_WORKER_FAILED"));
    assert.match(error("broken").message, /^task "broken": cannot load module .*broken\.mjs: broken at load$/);
    assert.ok((error("broken") as { cause?: unknown }).cause instanceof RangeError);
  });

  it("rejects a running attempt with a NodeLostError when its node is stopped, and runs nothing on a stopped node", async () => {
    const provider = inThread();
    const node = await provider.startNode(report);
    const running = Promise.resolve(provider.run(node, workerTask(tasks, "waitsIgnoringSignal", "stopped"), taskContext(node, { taskId: "s" })));
    await provider.stopNode(node);
    await assert.rejects(
      running,
      (e: unknown) => e instanceof NodeLostError && /node "in-thread-1" was stopped while export "waitsIgnoringSignal"/.test((e as Error).message),
    );
    await assert.rejects(async () => provider.run(node, workerTask(tasks, "sameInput", 1), taskContext(node)), NodeLostError);
    open("stopped");
  });

  it("fails a task whose output's `then` getter throws, with that error", async () => {
    const result = await run(new Job("in-thread").task("t", workerTask(tasks, "throwingThen")), { provider: inThread() });
    assert.equal(result.tasks.get("t")!.status, "failed");
    assert.match((result.tasks.get("t")!.error as Error).message, /then getter threw/);
  });

  it("ends an attempt aborted before it runs with the abort's reason, even when its export is missing", async () => {
    const provider = inThread();
    const node = await provider.startNode(report);
    const reason = new Error("cancelled before run");
    const aborted = taskContext(node, {
      onAbort: (listener) => {
        listener(reason);
        return () => {};
      },
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (error: unknown): void => void unhandled.push(error);
    process.on("unhandledRejection", onUnhandled);
    try {
      await assert.rejects(
        async () => provider.run(node, workerTask(tasks, "noSuchExport"), aborted),
        (e: unknown) => e === reason,
      );
      // Had the export still been looked up, its failure would be a rejection nobody handles.
      await import(tasks.href);
      for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    await provider.stopNode(node);
  });

  it("ends an aborted attempt with the abort's reason when its node is stopped during the grace", async () => {
    const provider = inThread({ abandonGraceMs: 60_000 });
    const node = await provider.startNode(report);
    let abort!: (reason: unknown) => void;
    let runs!: () => void;
    const bodyRuns = new Promise<void>((resolve) => (runs = resolve));
    const ctx = taskContext(node, {
      onAbort: (listener) => {
        abort = listener;
        return () => {};
      },
      log: (line) => line === "started" && runs(),
    });
    const running = Promise.resolve(provider.run(node, workerTask(tasks, "waitsIgnoringSignal", "graced"), ctx));
    await bodyRuns;
    const reason = new Error("cancelled by user");
    abort(reason);
    await provider.stopNode(node);
    await assert.rejects(running, (e: unknown) => e === reason);
    open("graced");
  });

  it("loads a module that was missing at first once it appears; module state lives on across runs (one evaluation per process)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flotilla-in-thread-"));
    try {
      const later = workerTask(pathToFileURL(join(dir, "later.mjs")), "hello");
      const provider = inThread();
      const node = await provider.startNode(report);
      await assert.rejects(
        async () => provider.run(node, later, taskContext(node)),
        (e: unknown) => isFlotillaError(e, "E_WORKER_FAILED"),
      );
      writeFileSync(join(dir, "later.mjs"), 'export const hello = () => "here now";');
      // Deno keeps a module that was not found as not found for the rest of the process, whoever imports it.
      if (!isDeno) assert.equal(await provider.run(node, later, taskContext(node)), "here now", "on the same node");
      await provider.stopNode(node);
      const counts = new Job("in-thread").task("c", workerTask(tasks, "countsCalls"));
      const a = (await run(counts, { provider })).tasks.get("c")!.output as number;
      const b = (await run(counts, { provider: inThread() })).tasks.get("c")!.output as number;
      assert.equal(b, a + 1, "the same module instance in a second run and on a second provider");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs under explore(): a timed-out attempt's grace is a timer of the pool's runtime", async () => {
    await import(tasks.href); // loaded before the schedules: no real I/O inside them
    const job = new Job("in-thread").task("t", { timeoutMs: 10 }, workerTask(tasks, "untilAborted"));
    await explore(
      async (t) => {
        const result = await run(job, { runtime: t.runtime, provider: inThread() });
        assert.equal(result.tasks.get("t")!.status, "failed");
      },
      { iterations: 5, seed: 1 },
    );
  });

  it("refuses bad options and bodies that are not workerTask specs", async () => {
    assert.throws(() => inThread({ slots: 0 }), /inThread\(\): option "slots" must be an integer >= 1, or Infinity, received number 0/);
    assert.throws(() => inThread({ abandonGraceMs: -1 }), /inThread\(\): option "abandonGraceMs" must be a number of milliseconds/);
    assert.throws(
      () => inThread({ slot: 2 } as never),
      (e: unknown) => isFlotillaError(e, "E_INVALID_OPTION") && /slot/.test((e as Error).message),
    );
    const provider = inThread({ slots: 3 });
    const node = await provider.startNode(report);
    assert.equal(node.slots, 3);
    await assert.rejects(
      async () => provider.run(node, { kind: "command", argv: ["true"] } as never, taskContext(node)),
      /provider "in-thread" runs workerTask\(module, export, input\) bodies/,
    );
    await provider.stopNode(node);
  });
});
