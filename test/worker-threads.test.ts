/**
 * flotilla/worker-threads, end to end through run()/start() and at the provider level, against the
 * BUILT package (dist/), so the worker script is the shipped JavaScript (`npm run build` first). The
 * same file runs under `node --import tsx --test` and `deno test`. Tests synchronise with task bodies
 * through ctx.log lines (task:output events) and SharedArrayBuffers, never through time.
 */
import { after, before, describe, it, mock } from "node:test";
import assert from "node:assert/strict";
import { taskContext } from "./helpers.ts";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
// Deno does not look for a .d.ts beside a .js file by itself; tsc does, and ignores these comments.
// @ts-types="../dist/index.d.ts"
import { Job, NodeLostError, errorCodes, inProcess, isFlotillaError, run, start, type NodeReport } from "../dist/index.js";
// @ts-types="../dist/testing.d.ts"
import { providerContract } from "../dist/testing.js";
// @ts-types="../dist/worker-threads.d.ts"
import { WORKER_THREADS_ERROR_CODES, workerTask, workerThreads, type WorkerTaskSpec } from "../dist/worker-threads.js";

const tasks = new URL("./fixtures/worker/tasks.mjs", import.meta.url);
/** One macrotask: every microtask queued before it (a provider's batched post among them) has run. */
const flushed = () => new Promise<void>((resolve) => setImmediate(resolve));
const isDeno = "Deno" in globalThis;

/**
 * Worker threads of this process that started and have not exited, to prove that runs leave none
 * behind, on Node and on Deno alike: starts are counted from the "worker" event both emit on
 * `process` for every new Worker, exits from every Worker's "exit" event. Both emit "worker" on the
 * next tick, which can come after a run that ended within one microtask burst: hence the flush before
 * each count. Deno emits "exit" within `terminate()`, which can come before "worker", too early for a
 * listener added then: hence exits are seen through `Worker.prototype.emit` (see `watchWorkers`).
 */
const workers = { started: 0, exited: 0 };
async function liveWorkers(): Promise<number> {
  await flushed();
  return workers.started - workers.exited;
}

/** Starts counting workers; returns the function that stops. */
function watchWorkers(): () => void {
  const started = (): void => void workers.started++;
  process.on("worker", started);
  const proto = Worker.prototype as { emit(name: string | symbol, ...args: unknown[]): boolean };
  const own = Object.getOwnPropertyDescriptor(proto, "emit");
  const emit = proto.emit;
  proto.emit = function (this: unknown, name, ...args) {
    if (name === "exit") workers.exited++;
    return emit.call(this, name, ...args);
  };
  return () => {
    process.off("worker", started);
    if (own === undefined) delete (proto as { emit?: unknown }).emit;
    else Object.defineProperty(proto, "emit", own);
  };
}

/** Resolves when task `taskId` logs `line` (a task:output event): the body is running. */
function logged(handle: ReturnType<typeof start>, taskId: string, line: string): Promise<void> {
  return new Promise((resolve) => handle.on("task:output", (e) => e.taskId === taskId && e.line === line && resolve()));
}

const cells = (n = 1) => new Int32Array(new SharedArrayBuffer(4 * n));

const loadGate = new URL("./fixtures/worker/load-gate.mjs", import.meta.url);
const heldLoad = new URL("./fixtures/worker/held-load.mjs", import.meta.url);
type Echo = { input: string; threadId: number };

/** Resolves once cell `i` of `array` is no longer 0, without blocking (Atomics.waitAsync is ES2024; the lib here is ES2023). */
async function setByThread(array: Int32Array, i: number): Promise<void> {
  await (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { value: unknown } }).waitAsync(array, i, 0).value;
}

/**
 * "hold" gives the thread `gate` (see held-load.mjs) and returns its thread id; then each of `ids`
 * (priority 1) calls held-load.mjs's `exportName` on that thread.
 */
function heldLoadJob(gate: Int32Array, ids: string[], exportName = "echo") {
  let job = new Job<Record<string, unknown>>("held").task("hold", workerTask<number>(loadGate, "hold", { cells: gate }));
  for (const id of ids) job = job.task(id, { dependsOn: ["hold"], priority: 1 }, workerTask<Echo>(heldLoad, exportName, id));
  return job;
}

describe("worker threads", () => {
  let unwatch = (): void => {};
  before(() => void (unwatch = watchWorkers()));
  after(async () => {
    const live = await liveWorkers();
    unwatch();
    assert.equal(live, 0, "every worker thread the suite started has exited");
  });

  it("runs exports in threads; outputs and dependency outputs cross by structured clone", async () => {
    const job = new Job("math")
      .task("a", workerTask<number>(tasks, "add", { a: 1, b: 2 }))
      .task("b", workerTask<number>(tasks, "add", { a: 10, b: 20 }))
      .task("c", { dependsOn: ["a", "b"] }, workerTask<number>(tasks, "sum", 100))
      .task("d", { dependsOn: ["c"] }, workerTask<Record<string, unknown>>(tasks, "echoDeps"))
      .task("who", workerTask<{ taskId: string; attempt: number; input: unknown }>(tasks, "whoAmI", new Map([["k", [1n]]])));
    const live = await liveWorkers();
    const { started } = workers;
    const result = await run(job, { provider: workerThreads({ threads: 2 }) });
    assert.equal(result.status, "succeeded", String(result.error));
    const c: number | undefined = result.output("c");
    assert.equal(c, 133);
    assert.deepEqual(result.output("d"), { c: 133 });
    const who = result.output("who")!;
    assert.equal(who.taskId, "who");
    assert.equal(who.attempt, 1);
    assert.deepEqual(who.input, new Map([["k", [1n]]]));
    assert.ok(workers.started > started, "the run started threads");
    assert.equal(await liveWorkers(), live, "the run's threads ended with it");
  });

  it("runs tasks on several threads at once", async () => {
    const shared = cells();
    let job = new Job<Record<string, { met: boolean; threadId: number }>>("rendezvous");
    for (const id of ["x", "y"]) job = job.task(id, workerTask(tasks, "rendezvous", { cells: shared, parties: 2 }));
    const result = await run(job, { provider: workerThreads({ threads: 2, tasksPerThread: 1 }) });
    assert.equal(result.status, "succeeded", String(result.error));
    const x = result.output("x")!;
    const y = result.output("y")!;
    assert.ok(x.met && y.met, "both tasks were running at the same moment");
    assert.notEqual(x.threadId, y.threadId);
  });

  it("batches many tasks through few threads, each output its own", async () => {
    let job = new Job<Record<string, number>>("many");
    for (let i = 0; i < 500; i++) job = job.task(`t${i}`, workerTask(tasks, "add", { a: i, b: 1 }));
    const result = await run(job, { provider: workerThreads({ threads: 2, tasksPerThread: 32 }) });
    assert.equal(result.status, "succeeded", String(result.error));
    for (let i = 0; i < 500; i++) assert.equal(result.output(`t${i}`), i + 1);
  });

  it("forwards ctx.log lines as task:output events", async () => {
    const handle = start(new Job("logs").task("talk", workerTask(tasks, "logs", ["one", "two"])), { provider: workerThreads({ threads: 1 }) });
    const lines: string[] = [];
    handle.on("task:output", (e) => lines.push(`${e.taskId}/${e.stream}: ${e.line}`));
    const result = await handle.result;
    assert.equal(result.output("talk"), 2);
    assert.deepEqual(lines, ["talk/log: one", "talk/log: two"]);
  });

  it("fails a task with the error its export threw: name, message, code and properties kept", async () => {
    const job = new Job("errors")
      .task("bad", workerTask(tasks, "fails", "no such row"))
      .task("str", workerTask(tasks, "rejectsWithString", "plain string"))
      .task("fine", workerTask(tasks, "add", { a: 1, b: 1 }));
    const result = await run(job, { provider: workerThreads({ threads: 1 }) });
    assert.equal(result.status, "failed");
    const error = result.tasks.get("bad").error as RangeError & { code: string; detail: unknown };
    assert.ok(error instanceof RangeError);
    assert.equal(error.message, "no such row");
    assert.equal(error.code, "E_FIXTURE");
    assert.deepEqual(error.detail, { at: "fixture" });
    assert.match(error.stack ?? "", /tasks\.mjs/, "the worker's stack");
    assert.equal(result.tasks.get("str").error, "plain string");
    assert.equal(result.output("fine"), 2);
  });

  it("works from the CommonJS build, and the process exits on its own after the run", { skip: isDeno ? "a Node check of dist/*.cjs" : false }, async () => {
    const script = fileURLToPath(new URL("./fixtures/worker/cjs-smoke.cjs", import.meta.url));
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [script], { timeout: 30_000 }, (error, out) => (error ? reject(error) : resolve(out))),
    );
    assert.equal(stdout.trim(), "succeeded 5");
  });

  it('gives a body the errors of dependencies that failed with onFailure "satisfy"', async () => {
    const job = new Job("satisfy")
      .task("bad", { onFailure: "satisfy" }, workerTask(tasks, "fails", "source is down"))
      .task("report", { dependsOn: ["bad"] }, workerTask(tasks, "seesFailures"));
    const result = await run(job, { provider: workerThreads({ threads: 1 }) });
    assert.deepEqual(result.output("report"), { bad: { isError: true, name: "RangeError", message: "source is down", code: "E_FIXTURE", dep: undefined } });
  });

  it('a dependency called "__proto__" reaches ctx.deps and ctx.failures like any other, and so does an error property of that name', async () => {
    const ownKeys = new URL("./fixtures/worker/own-keys.mjs", import.meta.url);
    type Seen = { deps: [string, unknown][]; failures: [string, unknown][] };
    const failed = await run(
      new Job("failed")
        .task("__proto__", { onFailure: "satisfy" }, workerTask(ownKeys, "failsWithOddProperty", "source is down"))
        .task("report", { dependsOn: ["__proto__"] }, workerTask<Seen>(ownKeys, "ownEntries")),
      { provider: workerThreads({ threads: 1 }) },
    );
    assert.deepEqual(failed.output("report"), {
      deps: [],
      failures: [["__proto__", { isError: true, message: "source is down", code: "E_FIXTURE", ownProto: "kept" }]],
    });
    const error = failed.tasks.get("__proto__").error;
    assert.equal(Object.getOwnPropertyDescriptor(error, "__proto__")?.value, "kept", "the error's own property came back from the thread");
    assert.ok(error instanceof Error);
    const succeeded = await run(
      new Job("succeeded")
        .task("__proto__", workerTask(tasks, "add", { a: 1, b: 2 }))
        .task("report", { dependsOn: ["__proto__"] }, workerTask<Seen>(ownKeys, "ownEntries")),
      { provider: workerThreads({ threads: 1 }) },
    );
    assert.deepEqual(succeeded.output("report"), { deps: [["__proto__", 3]], failures: [] });
  });

  describe("bad input", () => {
    it("a missing module fails its task with a clear error; the rest of the job runs", async () => {
      const missing = new URL("./fixtures/worker/no-such-module.mjs", import.meta.url);
      const job = new Job("missing").task("lost", workerTask(missing, "add")).task("fine", workerTask(tasks, "add", { a: 2, b: 2 }));
      const result = await run(job, { provider: workerThreads({ threads: 1 }) });
      const error = result.tasks.get("lost").error;
      assert.ok(isFlotillaError(error, "E_WORKER_FAILED"), String(error));
      assert.match(error.message, /^task "lost": cannot load module file:\/\/.*no-such-module\.mjs in a worker thread: /);
      assert.ok(error.cause instanceof Error);
      assert.equal(result.output("fine"), 4);
    });

    it("a missing export fails its task, naming the export, the closest name and the module's exports", async () => {
      const job = new Job("export").task("typo", workerTask(tasks, "ad", { a: 1, b: 1 })).task("fine", workerTask(tasks, "add", { a: 1, b: 1 }));
      const result = await run(job, { provider: workerThreads({ threads: 1 }) });
      const error = result.tasks.get("typo").error;
      assert.ok(isFlotillaError(error, "E_WORKER_FAILED"), String(error));
      assert.match(error.message, /^task "typo": module file:\/\/.*tasks\.mjs has no export "ad" \(did you mean "add"\?\); its exports: .*\badd\b.*\bwhoAmI\b/);
      assert.equal(result.output("fine"), 2);
    });

    it("an export that is not a function fails its task", async () => {
      const result = await run(new Job("nf").task("n", workerTask(tasks, "notAFunction")), { provider: workerThreads({ threads: 1 }) });
      const error = result.tasks.get("n").error;
      assert.ok(isFlotillaError(error, "E_WORKER_FAILED"));
      assert.match(error.message, /^task "n": export "notAFunction" of module file:\/\/.*tasks\.mjs is a number, not a function$/);
    });

    it("an output that cannot be cloned fails that task, saying which task, export and value; others succeed", async () => {
      let job = new Job<Record<string, unknown>>("clone").task("odd", workerTask(tasks, "uncloneable"));
      for (let i = 0; i < 20; i++) job = job.task(`t${i}`, workerTask(tasks, "add", { a: i, b: 0 }));
      const result = await run(job, { provider: workerThreads({ threads: 2 }) });
      const error = result.tasks.get("odd").error;
      assert.ok(isFlotillaError(error, "E_WORKER_FAILED"), String(error));
      assert.match(
        error.message,
        /^task "odd": the output of export "uncloneable" \(module file:\/\/.*tasks\.mjs\) cannot be sent back from the worker thread: output\.items\[1\]\.save is a function \(save\)$/,
      );
      for (let i = 0; i < 20; i++) assert.equal(result.output(`t${i}`), i);
      assert.equal(result.counts.succeeded, 20);
    });

    it("an input that cannot be cloned fails that task before it reaches a thread", async () => {
      const job = new Job("input")
        .task("fnInput", workerTask(tasks, "returns", { callback: () => 1 }))
        .task("local", workerTask(tasks, "returns", 1))
        .task("fine", workerTask(tasks, "add", { a: 1, b: 2 }));
      const result = await run(job, { provider: workerThreads({ threads: 1 }) });
      const error = result.tasks.get("fnInput").error;
      assert.ok(isFlotillaError(error, "E_WORKER_FAILED"), String(error));
      assert.match(
        error.message,
        /^task "fnInput": the input of its workerTask \(export "returns" of file:\/\/.*tasks\.mjs\) cannot be sent to a worker thread: input\.callback is a function \(callback\)$/,
      );
      assert.equal(result.output("fine"), 3);
      assert.equal(result.output("local"), 1);
    });

    it("a dependency output that cannot be cloned fails the dependent worker task, naming the dependency", async () => {
      const job = new Job<Record<string, unknown>>("deps")
        .task("handle", () => ({ id: 7, close() {} }))
        .task("use", { pool: "cpu", dependsOn: ["handle"] }, workerTask(tasks, "returns", 1));
      const result = await run(job, { pools: { default: inProcess(), cpu: workerThreads({ threads: 1 }) } });
      const error = result.tasks.get("use").error;
      assert.ok(isFlotillaError(error, "E_WORKER_FAILED"), String(error));
      assert.match(error.message, /^task "use": the output of its dependency "handle" cannot be sent to a worker thread: deps\.handle\.close is a function/);
    });

    it("refuses a body that is not a workerTask before the run starts", async () => {
      const job = new Job("fn").task("inline", () => 1);
      await assert.rejects(
        run(job, { provider: workerThreads({ threads: 1 }) }),
        (e: unknown) =>
          isFlotillaError(e, "E_INVALID_OPTION") &&
          /task "inline": its body is of kind "function", which pool "default" \(provider "worker-threads"\)/.test((e as Error).message),
      );
    });
  });

  describe("lost threads", () => {
    it("a thread that crashes is a lost node: the attempt is requeued on a fresh thread without spending a retry", async () => {
      const flag = cells();
      const handle = start(
        new Job("crash").task("once", workerTask<string>(tasks, "crashOnce", { flag })).task("fine", workerTask(tasks, "add", { a: 1, b: 1 })),
        {
          provider: workerThreads({ threads: 1 }),
        },
      );
      const requeued: unknown[] = [];
      handle.on("task:requeued", (e) => e.taskId === "once" && requeued.push(e.error));
      const result = await handle.result;
      assert.equal(result.status, "succeeded", String(result.error));
      assert.equal(result.output("once"), "survived");
      assert.equal(requeued.length, 1);
      assert.ok(requeued[0] instanceof NodeLostError);
      assert.match((requeued[0] as Error).message, /^node "worker-thread-1" was lost running task "once" attempt 1: its worker thread exited with code 3$/);
      assert.equal(result.output("fine"), 2);
    });

    it("a poison task that crashes every thread it runs on fails with E_NODE_LOST after maxNodeLosses; other tasks are unaffected", async () => {
      let job = new Job<Record<string, unknown>>("poison").task("poison", { retries: 5 }, workerTask(tasks, "poison"));
      for (let i = 0; i < 10; i++) job = job.task(`t${i}`, workerTask(tasks, "add", { a: i, b: i }));
      const handle = start(job, { provider: workerThreads({ threads: 2 }), maxNodeLosses: 2 });
      let requeues = 0;
      let retries = 0;
      handle.on("task:requeued", (e) => (requeues += e.taskId === "poison" ? 1 : 0));
      handle.on("task:retry", () => retries++);
      const result = await handle.result;
      const poison = result.tasks.get("poison");
      assert.equal(poison.status, "failed");
      assert.ok(isFlotillaError(poison.error, "E_NODE_LOST"), String(poison.error));
      assert.match((poison.error as Error).message, /its worker thread crashed: poisoned thread/);
      // Two losses charged to it (maxNodeLosses: 2), the third fails it; one more, free, if the first
      // thread it crashed was also running another task at that moment (a shared loss is charged to
      // nobody, and the task then runs alone).
      assert.ok(requeues === 2 || requeues === 3, `requeued ${requeues} times`);
      assert.equal(retries, 0, "a lost node spends no retry");
      assert.equal(result.counts.succeeded, 10);
    });

    it("a thread that runs out of memory under resourceLimits is a lost node", { skip: isDeno ? "Deno ignores resourceLimits" : false }, async () => {
      const job = new Job("oom").task("hog", workerTask(tasks, "exhaustMemory")).task("fine", workerTask(tasks, "add", { a: 1, b: 1 }));
      const result = await run(job, {
        provider: workerThreads({ threads: 2, tasksPerThread: 1, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } }),
        maxNodeLosses: 1,
      });
      const hog = result.tasks.get("hog");
      assert.ok(isFlotillaError(hog.error, "E_NODE_LOST"), String(hog.error));
      assert.match((hog.error as Error).message, /its worker thread crashed: .*memory/);
      assert.equal(result.output("fine"), 2);
    });

    it("a thread that crashes while idle is reported through the node's lost() callback", async () => {
      const provider = workerThreads({ threads: 1 });
      // An idle thread does not keep the process alive (by design); this test waits on one, so it
      // holds the event loop open itself meanwhile.
      const keepAlive = setInterval(() => {}, 1 << 30);
      try {
        let report!: (reason: unknown) => void;
        const lost = new Promise<unknown>((resolve) => (report = resolve));
        const node = await provider.startNode({ lost: report } satisfies NodeReport);
        const go = cells();
        const ctx = taskContext(node, { taskId: "later" });
        assert.equal(await provider.run(node, workerTask(tasks, "crashLater", { go }), ctx), "returned");
        Atomics.store(go, 0, 1);
        Atomics.notify(go, 0);
        const reason = await lost;
        assert.ok(reason instanceof NodeLostError);
        assert.match((reason as Error).message, /^node "worker-thread-1" was lost while idle: its worker thread crashed: crashed while idle$/);
        await provider.stopNode(node);
      } finally {
        clearInterval(keepAlive);
      }
    });
  });

  describe("cancellation", () => {
    it("an attempt cancelled while its module loads costs neither its thread nor the other attempts on it: its grace starts once the module has loaded", async () => {
      const gate = cells(5); // cell 2 left 0: held-load.mjs blocks its thread while it loads
      const job = heldLoadJob(gate, ["a", "b", "c"], "finishLater");
      // The provider's timers are mocked, so the terminate grace passes when the test says, not when the clock does.
      mock.timers.enable({ apis: ["setTimeout"] });
      try {
        // One thread and no node loss allowed: a terminated thread fails b and c with E_NODE_LOST.
        const handle = start(job, { provider: workerThreads({ threads: 1, terminateGraceMs: 50 }), maxNodeLosses: 0 });
        const lost: string[] = [];
        handle.on("node:lost", (e) => lost.push(e.nodeId));
        const started = Promise.all(["a", "b", "c"].map((id) => logged(handle, id, "started")));
        await setByThread(gate, 0); // a, b and c are on the thread, which is blocked loading their module
        handle.cancelTask("a", "user");
        await flushed(); // the abort is posted to the thread, which cannot read it yet
        // A grace passes while the thread cannot listen: before the fix the grace ran from the post, and
        // the thread was terminated here, blaming a body that never ran. Now it is renewed (due at 100).
        mock.timers.tick(50);
        mock.timers.tick(30);
        Atomics.store(gate, 1, 1);
        Atomics.notify(gate, 1);
        // The module has loaded and the bodies run (a's too: the thread has not read its abort yet); or,
        // on a thread terminated too early, the run is over.
        await Promise.race([started, handle.result]);
        // Past the renewed grace (110 > 100), within a grace restarted when the module loaded (at 80).
        mock.timers.tick(30);
        Atomics.store(gate, 4, 1);
        Atomics.notify(gate, 4);
        const result = await handle.result;
        assert.equal(result.tasks.get("a").status, "cancelled");
        assert.equal(result.tasks.get("b").status, "succeeded", String(result.tasks.get("b").error));
        assert.equal(result.tasks.get("c").status, "succeeded", String(result.tasks.get("c").error));
        assert.deepEqual(lost, []);
        const thread = result.output("hold");
        assert.deepEqual(
          [result.output("b"), result.output("c")],
          [
            { input: "b", threadId: thread },
            { input: "c", threadId: thread },
          ],
          "b and c ran on the thread that loaded the module: it was not terminated",
        );
      } finally {
        mock.timers.reset();
      }
    });

    it("a thread blocked for good loading a module is terminated after 20 renewed graces; the attempt sharing it is requeued free", async () => {
      const gate = cells(5); // cell 1 is never set while the thread lives: its module load blocks for good
      mock.timers.enable({ apis: ["setTimeout"] });
      try {
        const handle = start(heldLoadJob(gate, ["a", "b"]), { provider: workerThreads({ threads: 1, terminateGraceMs: 50 }), maxNodeLosses: 0 });
        const requeued: string[] = [];
        handle.on("task:requeued", (e) => requeued.push(e.taskId));
        await setByThread(gate, 0);
        handle.cancelTask("a", "user");
        await flushed();
        for (let k = 0; k < 20; k++) mock.timers.tick(50); // b shares the thread: each grace is renewed
        await flushed();
        assert.deepEqual(requeued, [], "spared for 20 graces");
        mock.timers.tick(50); // the 21st: the thread runs nothing anyway, so it is terminated
        const result = await handle.result;
        Atomics.store(gate, 1, 1);
        Atomics.notify(gate, 1);
        assert.deepEqual(requeued, ["b"]);
        assert.equal(result.tasks.get("a").status, "cancelled");
        // b was requeued free (it shared the node): not E_NODE_LOST with maxNodeLosses 0. (On its fresh
        // thread the fixture module has no gate, so b then fails loading it.)
        assert.ok(!isFlotillaError(result.tasks.get("b").error, "E_NODE_LOST"), String(result.tasks.get("b").error));
        assert.equal(result.tasks.get("b").attempts, 2);
      } finally {
        mock.timers.reset();
      }
    });

    it("an attempt cancelled while its module loads, alone on its thread, ends after terminateGraceMs even when the load blocks the thread", async () => {
      const gate = cells(4); // held-load.mjs blocks its thread while it loads
      mock.timers.enable({ apis: ["setTimeout"] });
      try {
        const handle = start(heldLoadJob(gate, ["a"]), { provider: workerThreads({ threads: 1, terminateGraceMs: 50 }) });
        const lost: string[] = [];
        handle.on("node:lost", (e) => lost.push(e.nodeId));
        await setByThread(gate, 0);
        handle.cancelTask("a", "user");
        await flushed();
        mock.timers.tick(50); // terminating the thread now costs no other attempt
        const result = await handle.result;
        const loaded = Atomics.load(gate, 3);
        Atomics.store(gate, 1, 1);
        Atomics.notify(gate, 1);
        assert.equal(loaded, 0, "the run ended while the module was still loading: its thread was terminated");
        assert.equal(result.tasks.get("a").status, "cancelled");
        assert.deepEqual(lost, []);
      } finally {
        mock.timers.reset();
      }
    });

    it("an attempt cancelled while its module loads ends at once when the thread can hear it, not when the load ends", async () => {
      const gate = cells(4);
      Atomics.store(gate, 2, 1); // held-load.mjs loads by top-level await: the thread stays free meanwhile
      // Three slots for a, b and c; d waits for one, so d starting shows that a's attempt ended (the
      // run's cancelGraceMs is long enough not to free the slot by abandoning the attempt instead).
      const job = heldLoadJob(gate, ["a", "b", "c"]).task("d", { dependsOn: ["hold"] }, workerTask(heldLoad, "echo", "d"));
      const handle = start(job, { provider: workerThreads({ threads: 1, tasksPerThread: 3 }), cancelGraceMs: 60_000 });
      const loadedWhenDStarted = new Promise<number>((resolve) => handle.on("task:start", (e) => e.taskId === "d" && resolve(Atomics.load(gate, 3))));
      await setByThread(gate, 0);
      handle.cancelTask("a", "user");
      const loaded = await loadedWhenDStarted;
      Atomics.store(gate, 1, 1);
      Atomics.notify(gate, 1);
      const result = await handle.result;
      assert.equal(loaded, 0, "a's attempt ended (d took its slot) while the module was still loading");
      assert.equal(result.tasks.get("a").status, "cancelled");
      const thread = result.output("hold");
      for (const id of ["b", "c", "d"]) assert.deepEqual(result.output(id), { input: id, threadId: thread });
    });

    it("aborts the body's signal in its thread; a body that honours it stops and the task is cancelled", async () => {
      // Graces far beyond any delay of a loaded machine: the body answers its abort, however slowly.
      const handle = start(new Job("cancel").task("wait", workerTask(tasks, "honoursSignal")).task("fine", workerTask(tasks, "add", { a: 1, b: 1 })), {
        provider: workerThreads({ threads: 1, terminateGraceMs: 60_000 }),
        cancelGraceMs: 120_000,
      });
      const lines: string[] = [];
      handle.on("task:output", (e) => lines.push(e.line));
      let abandoned = false;
      handle.on("task:abandoned", () => (abandoned = true));
      await logged(handle, "wait", "started");
      handle.cancelTask("wait", "user pressed stop");
      const result = await handle.result;
      const wait = result.tasks.get("wait");
      assert.equal(wait.status, "cancelled");
      assert.ok(isFlotillaError(wait.error, "E_CANCELLED"));
      assert.deepEqual(lines, ["started", "aborted: CancelledError E_CANCELLED"], "the body saw the abort, with the reason's name and code");
      assert.equal(abandoned, false);
      assert.equal(result.output("fine"), 2);
    });

    it("terminates the thread of a body that ignores its signal after terminateGraceMs; later tasks run on a fresh thread", async () => {
      const provider = workerThreads({ threads: 1, tasksPerThread: 1, terminateGraceMs: 20 });
      // One thread: "before" runs on it first, then "stuck", which ignores its signal; "later" comes after.
      const job = new Job("stuck")
        .task("before", { priority: 2 }, workerTask<{ threadId: number }>(tasks, "whoAmI"))
        .task("stuck", { priority: 1 }, workerTask(tasks, "ignoresSignal"))
        .task("later", workerTask<{ threadId: number }>(tasks, "whoAmI"));
      // A run's cancelGraceMs far beyond terminateGraceMs plus any delay of a loaded machine.
      const handle = start(job, { provider, cancelGraceMs: 60_000 });
      let abandoned = false;
      handle.on("task:abandoned", () => (abandoned = true));
      await logged(handle, "stuck", "started");
      handle.cancelTask("stuck", "it hangs");
      const result = await handle.result;
      assert.equal(result.tasks.get("stuck").status, "cancelled");
      assert.equal(abandoned, false, "the attempt ended when its thread was terminated, before the run's cancelGraceMs");
      assert.equal(result.tasks.get("later").status, "succeeded", String(result.tasks.get("later").error));
      assert.notEqual(result.output("later")!.threadId, result.output("before")!.threadId, "a fresh thread");
    });

    it("a timed-out body that ignores its signal fails with E_TIMEOUT once its thread is terminated", async () => {
      const job = new Job("timeout").task("spin", { timeoutMs: 30 }, workerTask(tasks, "ignoresSignal")).task("fine", workerTask(tasks, "add", { a: 1, b: 1 }));
      const handle = start(job, { provider: workerThreads({ threads: 1, tasksPerThread: 1, terminateGraceMs: 10 }), cancelGraceMs: 60_000 });
      let abandoned = false;
      handle.on("task:abandoned", () => (abandoned = true));
      const result = await handle.result;
      assert.ok(isFlotillaError(result.tasks.get("spin").error, "E_TIMEOUT"));
      assert.equal(abandoned, false, "the attempt ended when its thread was terminated, before the run's cancelGraceMs");
      assert.equal(result.output("fine"), 2);
    });

    it("cancels cleanly while threads are still starting", async () => {
      const live = await liveWorkers();
      let job = new Job<Record<string, unknown>>("early");
      for (let i = 0; i < 8; i++) job = job.task(`t${i}`, workerTask(tasks, "honoursSignal"));
      // Cancelled as the first attempt is dispatched: the threads have not even loaded their script.
      const first = start(job, { provider: workerThreads({ threads: 2 }) });
      first.on("task:start", () => first.cancel("too early"));
      // Cancelled before any node was asked for.
      const second = start(job, { provider: workerThreads({ threads: 2 }) });
      second.cancel("even earlier");
      for (const result of [await first.result, await second.result]) {
        assert.equal(result.status, "cancelled");
        assert.equal(result.counts.cancelled, 8);
      }
      assert.equal(await liveWorkers(), live, "the starting threads were terminated");
    });
  });

  describe("options", () => {
    const invalid = (options: unknown, pattern: RegExp) =>
      assert.throws(
        () => workerThreads(options as never),
        (e: unknown) => isFlotillaError(e, "E_INVALID_OPTION") && pattern.test((e as Error).message),
      );

    it("refuses bad options, naming the option, what was expected and what was received", () => {
      invalid({ thread: 2 }, /^workerThreads\(\): unknown option "thread" \(did you mean "threads"\?\); known options: threads, tasksPerThread/);
      invalid({ threads: 0 }, /option "threads" must be an integer >= 1, received number 0/);
      invalid({ tasksPerThread: 1.5 }, /option "tasksPerThread" must be an integer >= 1, received number 1\.5/);
      invalid({ idleTimeoutMs: 0 }, /option "idleTimeoutMs" must be a number of milliseconds > 0, or Infinity, received number 0/);
      invalid({ terminateGraceMs: Infinity }, /option "terminateGraceMs" must be a number of milliseconds from 0 to 2147483647, received number Infinity/);
      invalid({ resourceLimits: { maxOldGenerationSize: 10 } }, /unknown limit "maxOldGenerationSize" \(did you mean "maxOldGenerationSizeMb"\?\)/);
      invalid({ resourceLimits: { stackSizeMb: -1 } }, /option "resourceLimits\.stackSizeMb" must be a number of MB > 0, received number -1/);
      invalid({ env: { A: 1 } }, /option "env\.A" must be a string, received number 1/);
      invalid({ argv: "x" }, /option "argv" must be an array of strings, received string "x"/);
      invalid({ execArgv: ["--x", 2] }, /option "execArgv\[1\]" must be a string, received number 2/);
      invalid(5, /^workerThreads\(\): options must be an object, received number 5$/);
    });

    it("describes itself as a provider of worker-thread bodies with one node per thread", () => {
      const provider = workerThreads({ threads: 3 });
      assert.equal(provider.name, "worker-threads");
      assert.deepEqual(provider.kinds, ["worker-thread"]);
      assert.equal(provider.maxNodes, 3);
      assert.ok((workerThreads().maxNodes ?? 0) >= 1);
    });

    it("declares E_WORKER_FAILED as its own error code", () => {
      const declared = errorCodes().get("E_WORKER_FAILED");
      assert.equal(declared?.owner, "flotilla/worker-threads");
      assert.match(declared.meaning, /module or export could not be loaded/);
      assert.equal(WORKER_THREADS_ERROR_CODES.E_WORKER_FAILED, "E_WORKER_FAILED");
    });

    it("workerTask builds a plain spec and refuses bad arguments", () => {
      const spec: WorkerTaskSpec<number> = workerTask<number>(tasks, "add", { a: 1, b: 2 });
      assert.deepEqual({ ...spec }, { kind: "worker-thread", module: tasks.href, export: "add", input: { a: 1, b: 2 } });
      assert.equal(workerTask(tasks.href, "add").module, tasks.href);
      const badUrl = (e: unknown) =>
        isFlotillaError(e, "E_INVALID_OPTION") &&
        /moduleUrl must be a URL, an absolute URL string or an absolute path .* received string "\.\/tasks\.mjs"/.test((e as Error).message);
      assert.throws(() => workerTask("./tasks.mjs", "add"), badUrl);
      assert.throws(
        () => workerTask(tasks, ""),
        (e: unknown) => isFlotillaError(e, "E_INVALID_OPTION") && /exportName must be a non-empty string .* received string ""/.test((e as Error).message),
      );
      assert.throws(
        () => workerTask(42 as never, "add"),
        (e: unknown) => isFlotillaError(e, "E_INVALID_OPTION") && /received number 42/.test((e as Error).message),
      );
    });

    it("a thread that cannot start (a bad execArgv) fails the waiting tasks with the reason", async () => {
      const result = await run(new Job("flags").task("a", workerTask(tasks, "add", { a: 1, b: 1 })), {
        provider: workerThreads({ threads: 1, execArgv: ["--no-such-flag"] }),
      });
      const error = result.tasks.get("a").error;
      assert.ok(isFlotillaError(error, "E_NODE_LOST"), String(error));
      assert.match(
        (error as Error).message,
        /provider "worker-threads" .*could not start a node: workerThreads\(\): option "execArgv" is refused by worker threads: .*--no-such-flag/,
      );
      // Refused as a bad option, so the start was not retried.
      assert.ok(isFlotillaError((error as Error).cause, "E_INVALID_OPTION"));
    });

    it("terminates a thread idle for idleTimeoutMs; the node starts a fresh one when next used", async () => {
      mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 });
      try {
        const provider = workerThreads({ threads: 1, idleTimeoutMs: 1_000 });
        const lost: unknown[] = [];
        const node = await provider.startNode({ lost: (reason: unknown) => lost.push(reason) });
        const ctx = taskContext(node, { taskId: "who" });
        const first = (await provider.run(node, workerTask(tasks, "whoAmI"), ctx)) as { threadId: number };
        mock.timers.tick(999);
        const same = (await provider.run(node, workerTask(tasks, "whoAmI"), ctx)) as { threadId: number };
        assert.equal(same.threadId, first.threadId, "not idle long enough yet");
        mock.timers.tick(1_000);
        const second = (await provider.run(node, workerTask(tasks, "whoAmI"), ctx)) as { threadId: number };
        assert.notEqual(second.threadId, first.threadId, "a fresh thread");
        assert.deepEqual(lost, [], "an idle shutdown is not a lost node");
        await provider.stopNode(node);
      } finally {
        mock.timers.reset();
      }
    });

    it("refuses to run on a node it did not start, or on one it stopped", async () => {
      const provider = workerThreads({ threads: 1 });
      const node = await provider.startNode({ lost: () => {} });
      const ctx = taskContext(node, { taskId: "who" });
      await assert.rejects(
        Promise.resolve(provider.run({ id: "other", slots: 1 }, workerTask(tasks, "whoAmI"), ctx)),
        (e: unknown) =>
          isFlotillaError(e, "E_INVALID_OPTION") &&
          (e as Error).message === 'task "who": provider "worker-threads" was asked to run on node string "other", which it did not start',
      );
      await provider.stopNode(node);
      await assert.rejects(
        Promise.resolve(provider.run(node, workerTask(tasks, "whoAmI"), ctx)),
        (e: unknown) => e instanceof NodeLostError && (e as Error).message === 'node "worker-thread-1" is stopped; task "who" attempt 1 cannot run on it',
      );
    });

    it("passes env and argv to the threads", async () => {
      const job = new Job("env").task("info", workerTask<{ env: string | undefined; argv: string[] }>(tasks, "processInfo"));
      const result = await run(job, { provider: workerThreads({ threads: 1, env: { FLOTILLA_FIXTURE: "yes" }, argv: ["--from-test"] }) });
      assert.equal(result.status, "succeeded", String(result.error));
      assert.deepEqual(result.output("info"), { env: "yes", argv: ["--from-test"] });
    });
  });

  describe("provider contract", () => {
    for (const check of providerContract<WorkerTaskSpec>({
      // One thread under Deno: `deno test` type-checks the task module again in every new thread (~0.7 s).
      provider: () => workerThreads({ threads: isDeno ? 1 : 2, terminateGraceMs: 100 }),
      bodies: {
        returns: (value) => workerTask(tasks, "returns", value),
        fails: (message) => workerTask(tasks, "fails", message),
        echoesDeps: () => workerTask(tasks, "echoDeps"),
        waitsForAbort: () => workerTask(tasks, "honoursSignal"),
        crashesNode: () => workerTask(tasks, "poison"),
      },
    })) {
      it(check.name, async () => {
        const live = await liveWorkers();
        await check.run();
        assert.equal(await liveWorkers(), live, "every thread the check's runs started has exited");
      });
    }
  });
});
