/**
 * flotilla/child-process against the built package: command output, failures with their details,
 * no shell unless asked, env/cwd/stdin, the dependency file, slots, cancel and timeout killing whole
 * process groups, live output lines, option checks, and nothing left running. Runs under Node and Deno.
 *
 * Synchronisation is by explicit signals (output lines, FIFOs the test writes to, files a fixture
 * writes when a signal reaches it, run timers the test fires itself), never by sleeps; where a grace
 * must elapse only if the code is broken, it is long enough that no loaded machine makes it elapse.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { taskContext } from "./helpers.ts";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
// Deno does not look for a .d.ts beside a .js file by itself; tsc does, and ignores these comments.
// @ts-types="../dist/index.d.ts"
import {
  CancelledError,
  FlotillaError,
  Job,
  NodeLostError,
  TimeoutError,
  errorCodes,
  inProcess,
  isFlotillaError,
  realRuntime,
  run,
  start,
  type RunEvents,
  type Runtime,
  type TaskContext,
} from "../dist/index.js";
// @ts-types="../dist/child-process.d.ts"
import { CHILD_PROCESS_ERROR_CODES, CommandFailedError, childProcess, command, type CommandSpec } from "../dist/child-process.js";
// @ts-types="../dist/testing.d.ts"
import { providerContract } from "../dist/testing.js";
import { isRunning, untilGone } from "./processes.ts";

const fixtures = fileURLToPath(new URL("./fixtures/process/", import.meta.url));
const GROUP = join(fixtures, "group.sh");
const IGNORE_TERM = join(fixtures, "ignore-term.sh");
const BLOCK = join(fixtures, "block.sh");
const TERM_GROUP = join(fixtures, "term-group.sh");
const SURVIVE_TERM = join(fixtures, "survive-term.sh");

/**
 * Graces no passing test waits out, even with every core busy. SLOW_MS is for a grace that elapses
 * only when the code under test is broken: the test then fails after it instead of hanging. NEVER_MS
 * is for one that must not elapse during a test at all.
 */
const SLOW_MS = 10_000;
const NEVER_MS = 600_000;

/** What a fixture wrote into its report file ("" when it wrote nothing). */
function report(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}
/** The delay of a timer that `heldTimer()` keeps: it fires when the test says, not when time passes. */
const HELD_MS = 1_234_567;

/**
 * The real runtime, except that the run's timer of `ms` milliseconds (a timeoutMs or cancelGraceMs
 * set to that value) fires only when the test calls `fire()`.
 */
function heldTimer(ms: number): { runtime: Runtime; fire(): void } {
  const handle = Symbol("held timer");
  let held: (() => void) | undefined;
  const runtime: Runtime = {
    ...realRuntime,
    setTimer: (delay: number, callback: () => void) => (delay === ms ? ((held = callback), handle) : realRuntime.setTimer(delay, callback)),
    clearTimer: (timer: unknown) => (timer === handle ? (held = undefined) : realRuntime.clearTimer(timer)),
  };
  return {
    runtime,
    fire() {
      const callback = held;
      held = undefined;
      assert.ok(callback !== undefined, `no timer of ${ms} ms is set`);
      callback();
    },
  };
}

/** Every pid a test saw. Each test checks its own are gone; the after hook kills any a failed test left. */
const seenPids: number[] = [];
const scratch = mkdtempSync(join(tmpdir(), "flotilla-cp-test-"));
after(() => {
  rmSync(scratch, { recursive: true, force: true });
  // Only when a test failed half-way can one of its processes still run: don't leave it behind.
  for (const pid of seenPids) if (isRunning(pid)) process.kill(pid, "SIGKILL");
});

/** The pids a fixture prints as its first line ("<shell pid> <child pid>"). */
function pidsOf(line: string): number[] {
  const pids = line.trim().split(/\s+/).map(Number);
  assert.ok(pids.length === 2 && pids.every((p) => Number.isInteger(p) && p > 0), `expected two pids, got ${JSON.stringify(line)}`);
  seenPids.push(...pids);
  return pids;
}

/** Resolves with the first output line of a task, through `task:output`. */
function firstLine(handle: { on<E extends "task:output">(event: E, listener: (payload: RunEvents[E]) => void): unknown }, taskId: string): Promise<string> {
  return new Promise((resolve) => handle.on("task:output", (e) => e.taskId === taskId && e.stream === "stdout" && resolve(e.line)));
}

function failedWith(result: { tasks: { get(id: string): { status: string; error: unknown } } }, id: string): CommandFailedError {
  const task = result.tasks.get(id);
  assert.equal(task.status, "failed");
  assert.ok(task.error instanceof CommandFailedError, `task "${id}" failed with ${String(task.error)}`);
  assert.ok(task.error instanceof FlotillaError);
  assert.equal(task.error.code, "E_COMMAND_FAILED");
  assert.equal(task.error.name, "CommandFailedError");
  return task.error;
}

const provider = () => childProcess({ slots: 4 });

describe("child-process: output", () => {
  it("succeeds with stdout as text, one final newline removed", async () => {
    const job = new Job("j")
      .task("echo", command(["echo", "hello world"]))
      .task("two", command(["printf", "a\\n\\n"]))
      .task("crlf", command(["printf", "b\\r\\n"]))
      .task("none", command(["printf", "c "]));
    const result = await run(job, { provider: provider() });
    assert.equal(result.status, "succeeded");
    assert.equal(result.output("echo"), "hello world");
    assert.equal(result.output("two"), "a\n", "only the last newline goes");
    assert.equal(result.output("crlf"), "b", "a final \\r\\n is one newline");
    assert.equal(result.output("none"), "c ", "nothing else is trimmed");
  });

  it('parses stdout as JSON with output: "json", typed by the caller', async () => {
    const job = new Job("j").task("count", command<{ n: number; list: number[] }>(["printf", '{"n": 42, "list": [1, 2]}'], { output: "json" }));
    const result = await run(job, { provider: provider() });
    const out = result.output("count");
    assert.deepEqual(out, { n: 42, list: [1, 2] });
    assert.equal(out?.n, 42);
  });

  it('gives undefined with output: "none", and keeps no stdout', async () => {
    const result = await run(new Job("j").task("quiet", command(["echo", "ignored"], { output: "none", maxOutputBytes: 0 })), { provider: provider() });
    assert.equal(result.status, "succeeded");
    assert.equal(result.output("quiet"), undefined);
  });

  it("fails an attempt whose stdout is not valid JSON, saying so", async () => {
    const result = await run(new Job("j").task("bad", command(["echo", "not json"], { output: "json" })), { provider: provider() });
    const error = failedWith(result, "bad");
    assert.equal(error.failure, "output-json");
    assert.equal(error.exitCode, 0);
    assert.match(
      error.message,
      /^task "bad" attempt 1: command \["echo","not json"\] exited 0 but its stdout is not valid JSON \(output: "json"\); stdout began "not json\\n"$/,
    );
    assert.ok(error.cause instanceof SyntaxError);
  });

  it("fails output past maxOutputBytes with an error naming the cap, and stops the command", async () => {
    // `yes` writes forever: only the cap stops it.
    const job = new Job("j").task("flood", command(["yes"], { maxOutputBytes: 1000 })).task("small", command(["echo", "ok"], { maxOutputBytes: 3 }));
    const result = await run(job, { provider: provider() });
    const error = failedWith(result, "flood");
    assert.equal(error.failure, "output-limit");
    assert.match(error.message, /command \["yes"\] wrote more than 1000 bytes to stdout \(maxOutputBytes\) and was stopped/);
    assert.equal(error.signal, "SIGTERM", "flotilla stopped it");
    assert.equal(result.output("small"), "ok", "3 bytes fit a cap of 3");
  });

  it("applies the provider's maxOutputBytes to commands without their own", async () => {
    const job = new Job("j").task("big", command(["printf", "12345"])).task("own", command(["printf", "12345"], { maxOutputBytes: 5 }));
    const result = await run(job, { provider: childProcess({ maxOutputBytes: 4 }) });
    assert.match(failedWith(result, "big").message, /more than 4 bytes/);
    assert.equal(result.output("own"), "12345", "a command's own cap wins");
  });
});

describe("child-process: failures", () => {
  it("fails a non-zero exit with the exit code, the stderr tail and argv, and the rest of the job goes on", async () => {
    const job = new Job("j")
      .task("fail", command(["sh", "-c", "echo first >&2; echo boom >&2; exit 7"]))
      .task("after", { dependsOn: ["fail"] }, command(["echo", "never"]))
      .task("other", command(["echo", "fine"]));
    const result = await run(job, { provider: provider() });
    const error = failedWith(result, "fail");
    assert.equal(error.failure, "exit");
    assert.equal(error.exitCode, 7);
    assert.equal(error.signal, null);
    assert.equal(error.stderrTail, "first\nboom");
    assert.deepEqual(error.argv, ["sh", "-c", "echo first >&2; echo boom >&2; exit 7"]);
    assert.equal(error.taskId, "fail");
    assert.equal(error.attempt, 1);
    assert.equal(
      error.message,
      'task "fail" attempt 1: command ["sh","-c","echo first >&2; echo boom >&2; exit 7"] exited with code 7\nstderr (last lines):\n  first\n  boom',
    );
    assert.equal(result.tasks.get("after").status, "skipped");
    assert.equal(result.output("other"), "fine");
  });

  it("keeps only the last 20 lines of stderr", async () => {
    const result = await run(new Job("j").task("noisy", command(["sh", "-c", "seq 1 100 >&2; exit 1"])), { provider: provider() });
    const error = failedWith(result, "noisy");
    assert.equal(error.stderrTail, Array.from({ length: 20 }, (_, i) => String(81 + i)).join("\n"));
  });

  it("says when a failing command wrote nothing to stderr", async () => {
    const result = await run(new Job("j").task("f", command(["false"])), { provider: provider() });
    assert.match(failedWith(result, "f").message, /exited with code 1; it wrote nothing to stderr$/);
  });

  it("fails a command killed by a signal with the signal's name", async () => {
    const result = await run(new Job("j").task("sig", command(["sh", "-c", "echo dying >&2; kill -USR1 $$"])), { provider: provider() });
    const error = failedWith(result, "sig");
    assert.equal(error.failure, "signal");
    assert.equal(error.signal, "SIGUSR1");
    assert.equal(error.exitCode, null);
    assert.match(error.message, /was killed by SIGUSR1\nstderr \(last lines\):\n {2}dying$/);
  });

  it("fails a command that does not exist (ENOENT), naming argv[0] and the cwd", async () => {
    const result = await run(new Job("j").task("missing", command(["no-such-command-flotilla"])).task("ok", command(["true"])), { provider: provider() });
    const error = failedWith(result, "missing");
    assert.equal(error.failure, "spawn");
    assert.equal((error.cause as NodeJS.ErrnoException).code, "ENOENT");
    assert.equal(
      error.message,
      `task "missing" attempt 1: command ["no-such-command-flotilla"] was not found (ENOENT): "no-such-command-flotilla" is not on PATH (cwd "${process.cwd()}")`,
    );
    assert.equal(result.tasks.get("ok").status, "succeeded");
  });

  it("says so when the cwd is what does not exist, and when the file is not executable", async () => {
    const job = new Job("j").task("nocwd", command(["true"], { cwd: "/no/such/dir" })).task("noexec", command([join(fixtures, "exit-mid-run.mjs")]));
    const result = await run(job, { provider: provider() });
    assert.match(failedWith(result, "nocwd").message, /could not be started: its cwd "\/no\/such\/dir" does not exist \(ENOENT\)/);
    assert.match(failedWith(result, "noexec").message, /is not executable \(EACCES/);
  });

  it("fails a command whose dependencies' outputs are not JSON, naming the dependency", async () => {
    const job = new Job("j").task("big", () => 10n).task("use", { dependsOn: ["big"], pool: "sh" }, command(["true"]));
    const result = await run(job, { pools: { default: inProcess(), sh: provider() } });
    const error = failedWith(result, "use");
    assert.equal(error.failure, "deps");
    assert.match(error.message, /cannot be written as JSON for FLOTILLA_DEPS_FILE \(dependency "big"\)/);
  });
});

describe("child-process: no shell unless asked", () => {
  it("passes arguments literally: no substitution, no globbing, no command separators", async () => {
    const marker = join(scratch, "must-survive");
    await writeFile(marker, "x");
    const args = ["$(echo hi)", "`id`", `; rm -f ${marker}`, "*", "$HOME", "a b"];
    const result = await run(new Job("j").task("lit", command(["printf", "%s\\n", ...args])), { provider: provider() });
    assert.deepEqual(String(result.output("lit")).split("\n"), args);
    assert.ok(existsSync(marker));
  });

  it("runs argv[0] as a shell line with shell: true, argv[1..] as $1, $2", async () => {
    const job = new Job("j")
      .task("sh", command(['echo "$(echo hi) $1-$2" | tr a-z A-Z', "ab", "c d"], { shell: true }))
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash parameter expansion, not a template
      .task("bash", command(["echo ${1^^}", "up"], { shell: "/bin/bash" }));
    const result = await run(job, { provider: provider() });
    assert.equal(result.output("sh"), "HI AB-C D");
    assert.equal(result.output("bash"), "UP");
  });
});

describe("child-process: env, cwd, stdin", () => {
  it("merges env over the inherited environment, and can remove a variable", async () => {
    const job = new Job("j")
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
      .task("merged", command(["sh", "-c", 'echo "$FLOTILLA_TEST_VAR|${PATH:+has-path}"'], { env: { FLOTILLA_TEST_VAR: "v 1" } }))
      .task("removed", command(["/usr/bin/env"], { env: { PATH: undefined } }));
    const result = await run(job, { provider: provider() });
    assert.equal(result.output("merged"), "v 1|has-path");
    assert.ok(
      !String(result.output("removed"))
        .split("\n")
        .some((l) => l.startsWith("PATH=")),
    );
  });

  it('passes a variable named "__proto__" like any other', async () => {
    // A computed key makes an own property; `{ __proto__: … }` would set the object's prototype.
    const env = { ["__proto__"]: "proto value" };
    const job = new Job("j")
      .task("inherited", command(["sh", "-c", "env | grep '^__proto__='"], { env }))
      .task("bare", command(["sh", "-c", "env | grep '^__proto__='"], { env, inheritEnv: false }));
    const result = await run(job, { provider: provider() });
    assert.equal(result.output("inherited"), "__proto__=proto value");
    assert.equal(result.output("bare"), "__proto__=proto value");
  });

  it("replaces the environment with inheritEnv: false (flotilla's variables stay)", async () => {
    const result = await run(new Job("j").task("bare", command(["/usr/bin/env"], { inheritEnv: false, env: { ONLY: "this" } })), { provider: provider() });
    const names = String(result.output("bare"))
      .split("\n")
      .map((l) => l.slice(0, l.indexOf("=")))
      .sort();
    assert.deepEqual(names, ["FLOTILLA_ATTEMPT", "FLOTILLA_DEPS_FILE", "FLOTILLA_TASK_ID", "ONLY"]);
  });

  it("runs in cwd, given as a path or a file: URL", async () => {
    const job = new Job("j").task("path", command(["pwd"], { cwd: scratch })).task("url", command(["pwd"], { cwd: pathToFileURL(scratch) }));
    const result = await run(job, { provider: provider() });
    assert.equal(realpathSync(String(result.output("path"))), realpathSync(scratch));
    assert.equal(realpathSync(String(result.output("url"))), realpathSync(scratch));
  });

  it("writes stdin (a string or bytes) and closes it; without it stdin is empty", async () => {
    const job = new Job("j")
      .task("text", command(["cat"], { stdin: "line a\nline b\n" }))
      .task("bytes", command(["wc", "-c"], { stdin: new Uint8Array(1000) }))
      .task("empty", command(["cat"]))
      .task("unread", command(["true"], { stdin: "x".repeat(1 << 20) }));
    const result = await run(job, { provider: provider() });
    assert.equal(result.output("text"), "line a\nline b");
    assert.equal(String(result.output("bytes")).trim(), "1000");
    assert.equal(result.output("empty"), "");
    assert.equal(result.tasks.get("unread").status, "succeeded", "a command that never reads its stdin is fine");
  });
});

describe("child-process: dependencies and attempts", () => {
  it("hands dependencies' outputs over in FLOTILLA_DEPS_FILE and removes the file afterwards", async () => {
    const job = new Job("j")
      .task("a", command(["echo", "hello"]))
      .task("b", command(["printf", '{"n":1}'], { output: "json" }))
      .task("broken", { onFailure: "satisfy" }, command(["false"]))
      .task(
        "c",
        { dependsOn: ["a", "b", "broken"] },
        command(["sh", "-c", 'cat "$FLOTILLA_DEPS_FILE"; echo; echo "$FLOTILLA_DEPS_FILE"; echo "$FLOTILLA_TASK_ID#$FLOTILLA_ATTEMPT"']),
      );
    const result = await run(job, { provider: provider() });
    assert.equal(result.tasks.get("c").status, "succeeded");
    const [json, file, id] = String(result.output("c")).split("\n") as [string, string, string];
    const content = JSON.parse(json) as { deps: Record<string, unknown>; failures: Record<string, { name: string; code: string; message: string }> };
    assert.deepEqual(content.deps, { a: "hello", b: { n: 1 } });
    assert.deepEqual(Object.keys(content.failures), ["broken"]);
    assert.equal(content.failures.broken?.name, "CommandFailedError");
    assert.equal(content.failures.broken?.code, "E_COMMAND_FAILED");
    assert.equal(id, "c#1");
    assert.ok(file.startsWith(realpathSync(tmpdir())) || file.startsWith(tmpdir()), file);
    assert.ok(!existsSync(file), "the dependency file is removed after the attempt");
    assert.ok(!existsSync(dirname(file)), "the node's private directory is removed when the run ends");
  });

  /**
   * Runs `upstream` as task "__proto__" (a command), then reads what a dependent command finds in
   * FLOTILLA_DEPS_FILE and what a dependent in-process body finds in ctx.deps and ctx.failures.
   * (Deno has no Object.prototype.__proto__ accessor, so only Node shows a key assigned as a prototype.)
   */
  type DepsFile = { deps: Record<string, unknown>; failures: Record<string, { name?: string; code?: string; message: string }> };
  async function protoViews(upstream: CommandSpec<unknown>, options: { onFailure?: "satisfy" } = {}) {
    const job = new Job("j")
      .task("__proto__", { pool: "sh", ...options }, upstream)
      .task("cmd", { dependsOn: ["__proto__"], pool: "sh" }, command(["sh", "-c", 'cat "$FLOTILLA_DEPS_FILE"']))
      .task("fn", { dependsOn: ["__proto__"] }, (ctx: TaskContext) => ({
        deps: Object.keys(ctx.deps),
        failures: Object.keys(ctx.failures),
        output: Object.getOwnPropertyDescriptor(ctx.deps, "__proto__")?.value,
      }));
    const result = await run(job, { pools: { default: inProcess(), sh: provider() } });
    assert.equal(result.tasks.get("cmd").status, "succeeded");
    // JSON.parse makes "__proto__" an own property, as it does every key.
    return {
      command: JSON.parse(String(result.output("cmd"))) as DepsFile,
      inProcess: result.output("fn") as { deps: string[]; failures: string[]; output: unknown },
    };
  }

  it('hands a dependency with the id "__proto__" that succeeded over in deps, as in-process bodies see it', async () => {
    const views = await protoViews(command(["echo", "proto output"]));
    assert.deepEqual(views.inProcess, { deps: ["__proto__"], failures: [], output: "proto output" });
    assert.deepEqual(Object.keys(views.command.deps), ["__proto__"]);
    assert.equal(Object.getOwnPropertyDescriptor(views.command.deps, "__proto__")?.value, "proto output");
    assert.deepEqual(Object.keys(views.command.failures), []);
  });

  it('hands a dependency with the id "__proto__" that failed (onFailure: "satisfy") over in failures, as in-process bodies see it', async () => {
    const views = await protoViews(command(["sh", "-c", "echo proto broke >&2; exit 2"]), { onFailure: "satisfy" });
    assert.deepEqual(views.inProcess, { deps: [], failures: ["__proto__"], output: undefined });
    assert.deepEqual(Object.keys(views.command.deps), []);
    assert.deepEqual(Object.keys(views.command.failures), ["__proto__"]);
    const failure = Object.getOwnPropertyDescriptor(views.command.failures, "__proto__")?.value as DepsFile["failures"][string];
    assert.equal(failure.name, "CommandFailedError");
    assert.equal(failure.code, "E_COMMAND_FAILED");
    assert.match(failure.message, /^task "__proto__" attempt 1: command \["sh","-c","echo proto broke >&2; exit 2"\] exited with code 2\nstderr/);
  });

  it("sets FLOTILLA_ATTEMPT for each attempt", async () => {
    const job = new Job("j").task(
      "flaky",
      { retries: 2, backoff: { initialMs: 0 } },
      command(["sh", "-c", 'echo "$FLOTILLA_TASK_ID#$FLOTILLA_ATTEMPT"; [ "$FLOTILLA_ATTEMPT" = 3 ]']),
    );
    const handle = start(job, { provider: provider() });
    const seen: string[] = [];
    handle.on("task:output", (e) => seen.push(`attempt ${e.attempt}: ${e.line}`));
    const result = await handle.result;
    assert.deepEqual(seen, ["attempt 1: flaky#1", "attempt 2: flaky#2", "attempt 3: flaky#3"]);
    assert.equal(result.output("flaky"), "flaky#3");
    assert.equal(result.tasks.get("flaky").attempts, 3);
  });
});

describe("child-process: slots", () => {
  it("runs at most `slots` commands at once (each blocks on a FIFO the test releases)", async () => {
    const ids = ["t1", "t2", "t3", "t4", "t5"];
    const fifos = Object.fromEntries(ids.map((id) => [id, join(scratch, `fifo-${id}`)]));
    for (const fifo of Object.values(fifos)) execFileSync("mkfifo", [fifo]);
    let job = new Job<Record<string, string>>("slots");
    for (const id of ids) job = job.task(id, command(["sh", BLOCK, fifos[id]!]));
    const handle = start(job, { provider: childProcess({ slots: 2 }) });
    const running = new Set<string>();
    const startedOrder: string[] = [];
    const overCommitted: string[] = [];
    let peak = 0;
    let wake: (() => void) | undefined;
    handle.on("task:output", (e) => {
      if (!e.line.startsWith("started")) return;
      // A command is spawned only once a slot is free (the previous holder's task:succeeded came
      // first), so counting at each start is exact.
      running.add(e.taskId);
      startedOrder.push(e.taskId);
      peak = Math.max(peak, running.size);
      if (running.size > 2) overCommitted.push([...running].join(", "));
      wake?.();
    });
    handle.on("task:succeeded", (e) => running.delete(e.taskId));
    const until = async (check: () => boolean) => {
      while (!check()) await new Promise<void>((resolve) => (wake = resolve));
    };

    // Nothing is released until two commands run at once; then one at a time, the oldest first.
    await until(() => startedOrder.length >= 2);
    for (let released = 0; released < ids.length; released++) {
      await until(() => startedOrder.length > released);
      await writeFile(fifos[startedOrder[released]!]!, "go\n");
    }
    const result = await handle.result;
    assert.equal(result.status, "succeeded");
    assert.deepEqual(overCommitted, []);
    assert.equal(peak, 2);
    for (const id of ids) assert.equal(result.output(id), `started ${id}\nreleased ${id} go`);
  });
});

describe("child-process: cancel, timeout, and nothing left running", () => {
  it("cancel sends SIGTERM to the whole process group: the command's own child gets it too", async () => {
    const file = join(scratch, "cancel-term");
    const handle = start(new Job("j").task("group", command(["sh", TERM_GROUP, file], { killGraceMs: SLOW_MS })), {
      provider: provider(),
      cancelGraceMs: NEVER_MS,
    });
    const [shell, child] = pidsOf(await firstLine(handle, "group")) as [number, number];
    handle.cancel("stop now");
    const result = await handle.result;
    assert.equal(result.status, "cancelled");
    const error = result.tasks.get("group").error;
    assert.ok(error instanceof CancelledError);
    assert.equal(error.reason, "stop now");
    // The shell waits for its child, and only SIGTERM makes the child write this: had the group's
    // leader alone got it, the command would wait until SIGKILL, killGraceMs later, which writes nothing.
    assert.equal(report(file), "TERM\n", "the command's child got SIGTERM");
    await untilGone(shell);
    await untilGone(child);
  });

  it("a timeout sends SIGTERM to the whole process group and fails the attempt with the TimeoutError", async () => {
    const file = join(scratch, "timeout-term");
    const timeout = heldTimer(HELD_MS);
    const handle = start(new Job("j").task("slow", { timeoutMs: HELD_MS }, command(["sh", TERM_GROUP, file], { killGraceMs: SLOW_MS })), {
      provider: provider(),
      runtime: timeout.runtime,
      cancelGraceMs: NEVER_MS,
    });
    const [shell, child] = pidsOf(await firstLine(handle, "slow")) as [number, number];
    timeout.fire(); // the attempt's timeoutMs elapses now, once the command is up
    const result = await handle.result;
    assert.equal(result.tasks.get("slow").status, "failed");
    assert.ok(result.tasks.get("slow").error instanceof TimeoutError);
    assert.equal(report(file), "TERM\n", "the command's child got SIGTERM");
    await untilGone(shell);
    await untilGone(child);
  });

  it("a command that ignores SIGTERM is killed with SIGKILL after killGraceMs, and the run ends without abandoning it", async () => {
    // Without the SIGKILL the run would abandon the attempt after cancelGraceMs: that is the failure
    // this looks for, and SLOW_MS makes sure no slow machine brings it about.
    const handle = start(new Job("j").task("stubborn", command(["sh", IGNORE_TERM], { killGraceMs: 20 })), { provider: provider(), cancelGraceMs: SLOW_MS });
    const abandoned: string[] = [];
    handle.on("task:abandoned", (e) => abandoned.push(e.taskId));
    const [shell, child] = pidsOf(await firstLine(handle, "stubborn")) as [number, number];
    handle.cancel();
    const result = await handle.result;
    assert.equal(result.status, "cancelled");
    assert.deepEqual(abandoned, [], "killed within the run's cancelGraceMs, not abandoned");
    // Both ignore SIGTERM: only SIGKILL ends them.
    await untilGone(shell);
    await untilGone(child);
  });

  it("SIGKILL waits for killGraceMs: a command that survives SIGTERM runs on until the run stops waiting, and the run's end kills it", async () => {
    const grace = heldTimer(HELD_MS);
    // The provider's default of 0 would send SIGKILL at once: the command's own killGraceMs must win.
    const handle = start(new Job("j").task("stubborn", command(["sh", SURVIVE_TERM], { killGraceMs: NEVER_MS })), {
      provider: childProcess({ slots: 1, killGraceMs: 0 }),
      runtime: grace.runtime,
      cancelGraceMs: HELD_MS,
    });
    const abandoned: string[] = [];
    handle.on("task:abandoned", (e) => abandoned.push(e.taskId));
    const [shell, child] = pidsOf(await firstLine(handle, "stubborn")) as [number, number];
    const term = new Promise<boolean>((resolve) => {
      handle.on("task:output", (e) => e.line === "TERM" && resolve(true));
      void handle.result.then(() => resolve(false));
    });
    handle.cancel();
    assert.equal(await term, true, "the command got SIGTERM (and said so) before its attempt ended");
    assert.equal(isRunning(shell), true, "SIGTERM did not end it, and no SIGKILL came before killGraceMs");
    assert.equal(isRunning(child), true);
    grace.fire(); // the run's cancelGraceMs elapses now: it stops waiting for the attempt
    const result = await handle.result;
    assert.equal(result.status, "cancelled");
    assert.deepEqual(abandoned, ["stubborn"]);
    await untilGone(shell);
    await untilGone(child);
  });

  it("kills what a command left running in its group when the command exits", async () => {
    const result = await run(new Job("j").task("leaver", command(["sh", "-c", 'sleep 1000 & echo "$$ $!"'])), { provider: provider() });
    const [shell, background] = pidsOf(String(result.output("leaver"))) as [number, number];
    await untilGone(shell);
    await untilGone(background);
  });

  it("does not wait forever for a process that left the group (setsid) but holds the output pipe", async () => {
    // Such a process escaped on purpose and is not flotilla's to kill; the attempt stops reading
    // its output killGraceMs after the command exited, and the test kills it.
    const result = await run(new Job("j").task("daemon", command(["sh", join(fixtures, "daemon.sh"), join(scratch, "daemon-fifo")], { killGraceMs: 20 })), {
      provider: provider(),
    });
    const pid = Number(result.output("daemon"));
    assert.ok(Number.isInteger(pid) && pid > 0, String(result.output("daemon")));
    try {
      assert.equal(result.status, "succeeded");
      assert.ok(isRunning(pid), "it left the command's process group, so it was not killed with it");
    } finally {
      process.kill(pid, "SIGKILL");
    }
    await untilGone(pid);
  });

  it("stopNode kills commands still running and waits for them; run() on a stopped node is refused", async () => {
    const p = childProcess({ slots: 1 });
    const node = await p.startNode({ lost: () => {} });
    const lines: string[] = [];
    let sawLine!: () => void;
    const line = new Promise<void>((resolve) => (sawLine = resolve));
    const ctx = taskContext(node, { taskId: "direct", log: (l: string) => void (lines.push(l), sawLine()) });
    const attempt = p.run(node, command(["sh", GROUP]), ctx) as Promise<unknown>;
    const settled = attempt.then(
      () => assert.fail("should not succeed"),
      (rejection: unknown) => rejection,
    );
    await line;
    const [shell, grandchild] = pidsOf(lines[0]!) as [number, number];
    await p.stopNode(node);
    // The shell is flotilla's own child: once stopNode has waited for it, it has been reaped.
    assert.equal(isRunning(shell), false, "stopNode waited for the command to end");
    const error = await settled;
    assert.ok(error instanceof NodeLostError, String(error));
    assert.match((error as Error).message, /was stopped while command \["sh",".*group\.sh"\] ran; it was killed/);
    await untilGone(shell);
    await untilGone(grandchild);
    await assert.rejects(p.run(node, command(["true"]), ctx) as Promise<unknown>, NodeLostError);
  });

  it("an already aborted signal rejects with its reason, and the command never starts", async () => {
    const p = childProcess({ slots: 1 });
    const node = await p.startNode({ lost: () => {} });
    const reason = new Error("too late");
    const ran = join(scratch, "aborted-ran");
    const lines: string[] = [];
    const ctx = taskContext(node, { signal: AbortSignal.abort(reason), log: (l: string) => void lines.push(l) });
    await assert.rejects(p.run(node, command(["sh", "-c", 'echo ran > "$1"; echo ran', "sh", ran]), ctx) as Promise<unknown>, (e) => e === reason);
    await p.stopNode(node); // waits for whatever it started
    assert.deepEqual(lines, []);
    assert.equal(existsSync(ran), false, "the command never ran");
  });

  /** Runs a program of the fixtures with this runtime, to its end: what it printed, and how it ended. */
  const runProgram = (name: string, env?: Record<string, string>) => {
    const script = join(fixtures, name);
    const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
    const args = isDeno ? ["run", "--allow-all", script] : [script];
    return new Promise<{ stdout: string; stderr: string; error: (Error & { signal?: string }) | null }>((resolve) =>
      execFile(process.execPath, args, { timeout: 30_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => resolve({ stdout, stderr, error })),
    );
  };

  /**
   * Runs a program that prints "pids <pid> ..." of the commands it runs and SIGKILLs itself; they all
   * end. Its TMPDIR is its own (in the scratch directory): a killed program leaves its deps directory.
   */
  const killedProgramLeavesNothing = async (name: string) => {
    const { stdout, stderr, error } = await runProgram(name, { TMPDIR: mkdtempSync(join(scratch, "tmp-")) });
    assert.equal(error?.signal, "SIGKILL", `the program was not killed: ${stdout}${stderr}`);
    // "<shell> <grandchild>" of each command, in pairs.
    const words = stdout
      .replace(/^pids /, "")
      .trim()
      .split(/\s+/);
    const pids = words.flatMap((_, i) => (i % 2 === 0 ? pidsOf(words.slice(i, i + 2).join(" ")) : []));
    assert.ok(pids.length >= 2, stdout);
    for (const pid of pids) await untilGone(pid);
  };

  it("when the program exits mid-run, its commands' process groups are killed", async () => {
    const { stdout, stderr, error } = await runProgram("exit-mid-run.mjs");
    if (error !== null) throw new Error(`${error.message}\n${stderr}`);
    const [shell, grandchild] = pidsOf(stdout.replace(/^pids /, "")) as [number, number];
    await untilGone(shell);
    await untilGone(grandchild);
  });

  it("when the program is killed mid-run (SIGKILL: no exit hook), the reaper stops its commands' process groups", async () => {
    await killedProgramLeavesNothing("killed-mid-run.mjs");
  });

  it("the reaper's directory removed mid-run (a temp cleaner): another reaper takes every command still running", async () => {
    await killedProgramLeavesNothing("killed-after-cleaner.mjs");
  });
});

describe("child-process: live output", () => {
  it("reports each stdout and stderr line as a task:output event, in order per stream", async () => {
    const handle = start(new Job("j").task("talk", command(["sh", "-c", "echo one; echo two >&2; printf 'three\\r\\nfour'; printf 'warn' >&2"])), {
      provider: provider(),
    });
    const events: { stream: string; line: string; taskId: string; attempt: number }[] = [];
    handle.on("task:output", (e) => events.push({ stream: e.stream, line: e.line, taskId: e.taskId, attempt: e.attempt }));
    const result = await handle.result;
    assert.equal(result.output("talk"), "one\nthree\r\nfour");
    assert.deepEqual(
      events.filter((e) => e.stream === "stdout").map((e) => e.line),
      ["one", "three", "four"],
    );
    assert.deepEqual(
      events.filter((e) => e.stream === "stderr").map((e) => e.line),
      ["two", "warn"],
    );
    assert.ok(events.every((e) => e.taskId === "talk" && e.attempt === 1));
  });

  it("keeps multi-byte characters whole across chunks, and across the pieces of a long line", async () => {
    // 2-, 3- and 4-byte characters (the emoji is two UTF-16 units), 270 kB: many pipe chunks, and a
    // line long enough to be reported in 64 Ki-unit pieces. Each offset puts the pieces' cuts
    // somewhere else in the pattern, the middle of the emoji among them.
    for (const prefix of ["", "x", "xy", "xyz"]) {
      const text = prefix + "é€😀".repeat(30_000);
      const handle = start(new Job("j").task("utf8", command(["cat"], { stdin: text, maxOutputBytes: Infinity })), { provider: provider() });
      const lines: string[] = [];
      handle.on("task:output", (e) => lines.push(e.line));
      const result = await handle.result;
      assert.equal(result.output("utf8"), text);
      assert.ok(lines.length > 1, "a long line arrives in pieces");
      assert.equal(lines.join(""), text);
      const split = lines.findIndex((line) => /^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/.test(line));
      assert.equal(split, -1, `with ${prefix.length} leading characters, piece ${split} begins or ends inside a character`);
    }
  });
});

describe("child-process: option checks", () => {
  const invalid = (fn: () => unknown, pattern: RegExp) =>
    assert.throws(fn, (e: unknown) => isFlotillaError(e, "E_INVALID_OPTION") && pattern.test((e as Error).message));

  it("refuses a bad argv", () => {
    invalid(() => command([]), /argv must be a non-empty array of strings .*received an empty array/);
    invalid(() => command("ls -l" as unknown as string[]), /argv must be a non-empty array .*received string "ls -l"/);
    invalid(() => command(["ls", 3 as unknown as string]), /command\(\["ls","3"\]\): argv\[1\] must be a string, received number 3/);
    invalid(() => command([""]), /argv\[0\] must be a non-empty program name/);
    invalid(() => command(["echo", "a\0b"]), /argv\[1\] must be a string without NUL characters/);
  });

  it("refuses unknown and bad command options, suggesting the closest name", () => {
    invalid(() => command(["x"], { outptu: "json" } as never), /command\(\["x"\]\): unknown option "outptu" \(did you mean "output"\?\)/);
    invalid(() => command(["x"], { output: "xml" } as never), /option "output" must be one of "text", "json", "none", received string "xml"/);
    invalid(() => command(["x"], { maxOutputBytes: -1 }), /option "maxOutputBytes" must be an integer >= 0 or Infinity, received number -1/);
    invalid(
      () => command(["x"], { env: { "A=B": "1" } }),
      /command\(\["x"\]\)?.*option "env" has the name "A=B"; a variable's name must be non-empty, without '=' or NUL/,
    );
    invalid(
      () => command(["x"], { killGraceMs: 2 ** 31 }),
      /option "killGraceMs" must be a number of milliseconds from 0 to 2147483647, received number 2147483648/,
    );
    invalid(
      () => command(["x"], { killGraceMs: Number.NaN }),
      /option "killGraceMs" must be a number of milliseconds from 0 to 2147483647, received number NaN/,
    );
    invalid(
      () => command(["x"], { env: { A: 1 } } as never),
      /option "env\.A" must be a string without NUL characters \(or undefined to remove it\), received number 1/,
    );
    invalid(() => command(["x"], { env: "A=1" } as never), /option "env" must be an object/);
    invalid(() => command(["x"], { cwd: "" }), /option "cwd" must be a non-empty directory path or a file: URL/);
    invalid(() => command(["x"], { stdin: 5 } as never), /option "stdin" must be a string or a Uint8Array, received number 5/);
    invalid(() => command(["x"], { shell: 1 } as never), /option "shell" must be a boolean or the path of a shell/);
    invalid(() => command(["x"], { inheritEnv: "no" } as never), /option "inheritEnv" must be a boolean/);
  });

  it("refuses unknown and bad provider options", () => {
    invalid(() => childProcess({ slot: 2 } as never), /childProcess\(\): unknown option "slot" \(did you mean "slots"\?\)/);
    invalid(() => childProcess({ slots: 0 }), /option "slots" must be an integer >= 1 or Infinity, received number 0/);
    invalid(() => childProcess({ killGraceMs: -5 }), /option "killGraceMs" must be a number of milliseconds from 0 to 2147483647, received number -5/);
    invalid(() => childProcess({ maxOutputBytes: 1.5 }), /option "maxOutputBytes" must be an integer >= 0 or Infinity/);
  });

  it("declares E_COMMAND_FAILED as its own error code, the code CommandFailedError carries", () => {
    const declared = errorCodes().get("E_COMMAND_FAILED");
    assert.equal(declared?.owner, "flotilla/child-process");
    assert.match(declared.meaning, /exited non-zero/);
    assert.equal(CHILD_PROCESS_ERROR_CODES.E_COMMAND_FAILED, "E_COMMAND_FAILED");
    const error = new CommandFailedError({ failure: "exit", argv: ["false"], taskId: "t", attempt: 1, exitCode: 1 }, "failed");
    assert.ok(error instanceof FlotillaError);
    assert.equal(error.code, CHILD_PROCESS_ERROR_CODES.E_COMMAND_FAILED);
  });

  it("refuses to run on a node it did not start, naming the task and the node", async () => {
    const p = childProcess({ slots: 1 });
    const ctx = taskContext({ id: "other", slots: 1 });
    await assert.rejects(
      p.run({ id: "other", slots: 1 }, command(["true"]), ctx) as Promise<unknown>,
      (e: unknown) =>
        isFlotillaError(e, "E_INVALID_OPTION") &&
        (e as Error).message === 'task "t": provider "child-process" was asked to run on node string "other", which it did not start',
    );
  });

  it('is a valid provider: one node, kind "command"; runs refuse bodies of another kind before starting', async () => {
    const p = childProcess({ slots: 3 });
    assert.equal(p.name, "child-process");
    assert.deepEqual(p.kinds, ["command"]);
    assert.equal(p.maxNodes, 1);
    const node = await p.startNode({ lost: () => {} });
    assert.equal(node.slots, 3);
    await p.stopNode(node);
    let called = false;
    await assert.rejects(
      run(
        new Job("j").task("fn", () => (called = true)),
        { provider: p },
      ),
      (e: unknown) =>
        isFlotillaError(e, "E_INVALID_OPTION") &&
        /task "fn": its body is of kind "function", which pool "default" \(provider "child-process"\)/.test((e as Error).message),
    );
    assert.equal(called, false, "the function never ran");
    await assert.rejects(
      run(new Job("j").task("cmd", command(["true"]))),
      (e: unknown) =>
        isFlotillaError(e, "E_INVALID_OPTION") &&
        /task "cmd": its body is of kind "command", which pool "default" \(provider "in-process"\)/.test((e as Error).message),
    );
  });
});

describe("child-process: the provider contract", () => {
  for (const check of providerContract<CommandSpec<unknown>>({
    provider: () => childProcess({ slots: 4 }),
    bodies: {
      returns: (value) => command(["printf", "%s", JSON.stringify(value)], { output: "json" }),
      fails: (message) => command(["sh", "-c", 'echo "$1" >&2; exit 1', "sh", message]),
      // The file is {"deps":…,"failures":…} on one line; sed keeps the deps (enough for the contract's values).
      echoesDeps: () => command(["sh", "-c", 'sed -e "$1" "$FLOTILLA_DEPS_FILE"', "sh", 's/^{"deps":\\(.*\\),"failures":.*}$/\\1/'], { output: "json" }),
      waitsForAbort: () => command(["sleep", "1000"]),
    },
  })) {
    it(check.name, check.run);
  }
});

describe("child-process: the test's own instruments", () => {
  it("isRunning() throws when it cannot ask ps, instead of calling a process gone", () => {
    const path = process.env.PATH;
    process.env.PATH = join(scratch, "no-such-dir");
    try {
      assert.throws(
        () => isRunning(process.pid),
        /isRunning\(\d+\): cannot tell whether the process runs: `ps -o stat= -p \d+` failed \(ENOENT\); these tests need procps' ps/,
      );
    } finally {
      process.env.PATH = path;
    }
    assert.equal(isRunning(process.pid), true);
  });
});

describe("child-process: nothing left behind", () => {
  it("when a run ends, no process its commands started is still running, however each command ended", async () => {
    // Each command starts a background child and prints "<shell pid> <child pid>" on stderr (stdout
    // may be capped); "cancelled" is cancelled once it has printed them.
    const withChild = (then: string) => `sleep 1000 & echo "$$ $!" >&2; ${then}`;
    const job = new Job("j")
      .task("exited", command([withChild("exit 0")], { shell: true }))
      .task("failed", command([withChild("exit 3")], { shell: true }))
      .task("capped", command([withChild("exec yes")], { shell: true, maxOutputBytes: 100 }))
      .task("cancelled", command([withChild("wait")], { shell: true }));
    const handle = start(job, { provider: provider() });
    const lines = new Map<string, string>();
    handle.on("task:output", (e) => {
      if (e.stream !== "stderr") return;
      lines.set(e.taskId, e.line);
      if (e.taskId === "cancelled") handle.cancelTask("cancelled");
    });
    const result = await handle.result;
    assert.equal(result.tasks.get("exited").status, "succeeded");
    assert.equal(failedWith(result, "failed").failure, "exit");
    assert.equal(failedWith(result, "capped").failure, "output-limit");
    assert.equal(result.tasks.get("cancelled").status, "cancelled");
    const pids = ["exited", "failed", "capped", "cancelled"].flatMap((id) => {
      const line = lines.get(id);
      assert.ok(line !== undefined, `task "${id}" printed its pids`);
      return pidsOf(line);
    });
    for (const pid of pids) await untilGone(pid);
  });
});
