/**
 * flotilla/cloud-vm's localVms() driver, through cloudVm(), against the built package: the provider
 * contract, worker-module and command bodies end to end (the same specs as the worker-thread and
 * child-process providers take), a VM process killed mid-job (the job completes, nothing is left
 * running), cancelled commands, spec failures, and option checks. Runs under Node and Deno.
 *
 * Synchronisation is by explicit signals (output lines the bodies write), never by sleeps.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
// Deno does not look for a .d.ts beside a .js file by itself; tsc does, and ignores these comments.
// @ts-types="../dist/index.d.ts"
import { Job, isFlotillaError, start, run, type RunEvents } from "../dist/index.js";
// @ts-types="../dist/cloud-vm.d.ts"
import { VmTaskFailedError, cloudVm, localVms } from "../dist/cloud-vm.js";
// @ts-types="../dist/worker-threads.d.ts"
import { workerTask } from "../dist/worker-threads.js";
// @ts-types="../dist/child-process.d.ts"
import { command } from "../dist/child-process.js";
// @ts-types="../dist/testing.d.ts"
import { providerContract } from "../dist/testing.js";
import { isRunning } from "./processes.ts";

const TASKS = new URL("./fixtures/vm/tasks.mjs", import.meta.url);

/** Every pid a test saw. Each test checks its own are gone; the after hook kills any a failed test left. */
const seenPids: number[] = [];
after(() => {
  for (const pid of seenPids) if (isRunning(pid)) process.kill(pid, "SIGKILL");
});

describe("cloudVm(localVms()): the provider contract", () => {
  const checks = providerContract({
    provider: () => cloudVm({ driver: localVms({ terminateGraceMs: 5_000 }), maxNodes: 2, slotsPerVm: 4 }),
    bodies: {
      returns: (value) => workerTask(TASKS, "returns", value),
      fails: (message) => workerTask(TASKS, "fails", message),
      echoesDeps: () => workerTask(TASKS, "echoDeps"),
      waitsForAbort: () => workerTask(TASKS, "waitForAbort"),
      crashesNode: () => workerTask(TASKS, "crash"),
    },
  });
  for (const check of checks) it(check.name, check.run);
});

describe("cloudVm(localVms()): end to end", () => {
  it("runs worker-module and command bodies with their dependencies, on VMs it deletes at the end", async () => {
    const driver = localVms();
    const job = new Job<Record<string, unknown>>("local-vms")
      .task("a", workerTask<number>(TASKS, "square", 3))
      .task("b", workerTask<number>(TASKS, "square", 4))
      .task("sum", { dependsOn: ["a", "b"] }, command(["sh", "-c", `node -e 'const d = require(process.env.FLOTILLA_DEPS_FILE).deps; console.log(d.a + d.b)'`]))
      .task("json", command(['printf \'{"task":"%s","attempt":%s}\' "$FLOTILLA_TASK_ID" "$FLOTILLA_ATTEMPT"'], { shell: true, output: "json" }))
      .task("env", command(["sh", "-c", 'echo "$GREETING"; echo "to stderr" >&2'], { env: { GREETING: "hello" } }));
    const handle = start(job, { pools: { default: cloudVm({ driver, maxNodes: 2, slotsPerVm: 2 }) } });
    const lines: string[] = [];
    handle.on("task:output", (e: RunEvents["task:output"]) => lines.push(`${e.taskId} ${e.stream}: ${e.line}`));
    const vmPids = new Set<number>();
    handle.on("node:start", () => {
      void driver.list().then((vms) => {
        for (const vm of vms) if (vm.pid !== undefined) vmPids.add(vm.pid);
      });
    });
    const result = await handle.result;
    assert.equal(result.status, "succeeded", String(result.error));
    assert.equal(result.output("a"), 9);
    assert.equal(result.output("sum"), "25");
    assert.deepEqual(result.output("json"), { task: "json", attempt: 1 });
    assert.equal(result.output("env"), "hello");
    assert.ok(lines.includes("a log: squaring 3"), lines.join("\n"));
    assert.ok(lines.includes("env stderr: to stderr"), lines.join("\n"));
    assert.deepEqual(await driver.list(), []);
    assert.ok(vmPids.size >= 1);
    for (const pid of vmPids) {
      seenPids.push(pid);
      assert.ok(!isRunning(pid), `VM process ${pid} is gone`);
    }
  });

  it("completes a job whose VM process is SIGKILLed mid-job: its attempts are requeued, and no process is left", async () => {
    const driver = localVms();
    const job = new Job<Record<string, unknown>>("kill-a-vm")
      .task("victim", workerTask<string>(TASKS, "victim"))
      .task("sleeper", command(['echo "$$"; if [ "$FLOTILLA_ATTEMPT" = 1 ]; then sleep 1000; fi; echo done'], { shell: true, output: "text" }));
    // One VM with two slots: both attempts run on the VM that is killed.
    const handle = start(job, { pools: { default: cloudVm({ driver, maxNodes: 1, slotsPerVm: 2 }) } });
    let vmPid: number | undefined;
    let sleeperPid: number | undefined;
    let killed = false;
    handle.on("task:output", (e: RunEvents["task:output"]) => {
      if (e.attempt !== 1) return;
      if (e.taskId === "victim") vmPid = Number(e.line.replace("pid ", ""));
      else if (e.taskId === "sleeper" && sleeperPid === undefined) sleeperPid = Number(e.line);
      if (vmPid !== undefined && sleeperPid !== undefined && !killed) {
        killed = true;
        seenPids.push(vmPid, sleeperPid);
        process.kill(vmPid, "SIGKILL");
      }
    });
    const requeued: string[] = [];
    handle.on("task:requeued", (e: RunEvents["task:requeued"]) => requeued.push(e.taskId));
    const lost: string[] = [];
    handle.on("node:lost", (e: RunEvents["node:lost"]) => lost.push(e.nodeId));
    const result = await handle.result;
    assert.ok(killed, "both first attempts reported their pids");
    assert.equal(result.status, "succeeded", String(result.error));
    assert.equal(result.output("victim"), "attempt 2");
    assert.match(String(result.output("sleeper")), /\ndone$/);
    assert.deepEqual(requeued.sort(), ["sleeper", "victim"]);
    assert.equal(lost.length, 1);
    assert.ok(!isRunning(vmPid!), `the killed VM process ${vmPid} is gone`);
    assert.ok(!isRunning(sleeperPid!), `the command ${sleeperPid} it ran is gone too`);
    assert.deepEqual(await driver.list(), []);
  });

  it("stops a cancelled command's process group", async () => {
    const driver = localVms();
    const handle = start(new Job("cancel").task("sleep", command(['echo "$$"; sleep 1000'], { shell: true })), {
      pools: { default: cloudVm({ driver }) },
    });
    let pid: number | undefined;
    handle.on("task:output", (e: RunEvents["task:output"]) => {
      pid = Number(e.line);
      seenPids.push(pid);
      handle.cancelTask("sleep", "enough");
    });
    let abandoned = false;
    handle.on("task:abandoned", () => (abandoned = true));
    const result = await handle.result;
    assert.equal(result.tasks.get("sleep").status, "cancelled");
    assert.ok(!abandoned, "the command stopped within the grace");
    assert.ok(pid !== undefined && !isRunning(pid), `the command ${pid} is gone`);
    assert.deepEqual(await driver.list(), []);
  });

  it("fails with VmTaskFailedError when a spec cannot run as asked, and passes a body's own error through", async () => {
    const job = new Job<Record<string, unknown>>("failures")
      .task("exit", command(["sh", "-c", "echo oops >&2; exit 3"]))
      .task("export", workerTask(TASKS, "noSuchExport"))
      .task("own", workerTask(TASKS, "fails", "my own error"))
      .task("input", workerTask(TASKS, "returns", { big: 1n }));
    const result = await run(job, { pools: { default: cloudVm({ driver: localVms(), maxNodes: 2 }) } });
    const exit = result.tasks.get("exit").error;
    assert.ok(exit instanceof VmTaskFailedError && exit.failure === "exit" && exit.exitCode === 3, String(exit));
    assert.equal(exit.stderrTail, "oops");
    assert.match(exit.message, /command \["sh","-c","echo oops >&2; exit 3"\] exited with code 3/);
    const missing = result.tasks.get("export").error;
    assert.ok(missing instanceof VmTaskFailedError && missing.failure === "export", String(missing));
    assert.match(missing.message, /has no export "noSuchExport"; its exports: .*returns/);
    const own = result.tasks.get("own").error as Error & { code?: string };
    assert.equal(own.message, "my own error");
    assert.equal(own.code, "E_FIXTURE");
    const input = result.tasks.get("input").error;
    assert.ok(input instanceof VmTaskFailedError && input.failure === "input", String(input));
    assert.match(input.message, /\(the input\)/);
  });

  it("runs worker-thread and command bodies only: a function body is refused before the run starts", async () => {
    const provider = cloudVm({ driver: localVms() });
    assert.deepEqual(provider.kinds, ["worker-thread", "command"]);
    await assert.rejects(
      Promise.resolve().then(() =>
        run(
          new Job("fn").task("f", () => 1),
          { pools: { default: provider } },
        ),
      ),
      (error: unknown) => isFlotillaError(error, "E_INVALID_OPTION") && /function/.test((error as Error).message),
    );
  });
});

describe("localVms(): options", () => {
  const bad: [string, unknown, RegExp][] = [
    ["a typo", { slot: 2 }, /localVms\(\): unknown option "slot" \(did you mean "slots"\?\)/],
    ["slots 0", { slots: 0 }, /option "slots" must be an integer >= 1 or Infinity, received number 0/],
    ["an env value that is not a string", { env: { A: 1 } }, /option "env.A" must be a string/],
    ["execArgv that is not an array", { execArgv: "--inspect" }, /option "execArgv" must be an array of strings/],
    ["a negative killGraceMs", { killGraceMs: -1 }, /option "killGraceMs" must be a number of milliseconds/],
    ["maxOutputBytes 1.5", { maxOutputBytes: 1.5 }, /option "maxOutputBytes" must be an integer >= 0 or Infinity/],
  ];
  for (const [what, options, message] of bad) {
    it(`refuses ${what} with E_INVALID_OPTION naming it`, () => {
      assert.throws(
        () => localVms(options as never),
        (error: unknown) => isFlotillaError(error, "E_INVALID_OPTION") && message.test((error as Error).message),
      );
    });
  }
});
