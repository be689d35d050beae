/**
 * What the `flotilla` command writes, piece by piece, without spawning it: durations, plain lines, JSON
 * lines, the live frame and its ETA, the critical path, the summary, flag values and error messages.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CancelledError, FlotillaError, Job, inProcess, memoryJournal, run, start } from "../src/index.ts";
import type { Journal } from "../src/journal.ts";
import type { RunEvent } from "../src/events.ts";
import { virtualRuntime } from "../src/testing/index.ts";
import { describeError, exitCodeOfError, exitCodeOfStatus } from "../cli/exit-codes.ts";
import { formatDuration } from "../cli/format.ts";
import { journalRefusal } from "../cli/journal-refusal.ts";
import { parseConcurrency, parseGraceMs, runCommandOptions } from "../cli/options.ts";
import { renderFrame } from "../cli/progress/frame.ts";
import { eventJson } from "../cli/progress/json.ts";
import { PlainProgress, plainLine } from "../cli/progress/plain.ts";
import { RunTally } from "../cli/progress/tally.ts";
import { summaryText } from "../cli/summary.ts";

describe("cli: formatting", () => {
  it("writes durations as ms, seconds with a tenth, minutes and seconds, hours and minutes", () => {
    assert.equal(formatDuration(0), "0ms");
    assert.equal(formatDuration(340.4), "340ms");
    assert.equal(formatDuration(1_234), "1.2s");
    assert.equal(formatDuration(59_940), "59.9s");
    assert.equal(formatDuration(125_000), "2m05s");
    assert.equal(formatDuration(3_720_000), "1h02m");
    assert.equal(formatDuration(Number.NaN), "—");
  });

  it("gives each event worth a log line its plain line, without escape codes", () => {
    const at = 1_000;
    const error = new FlotillaError("E_COMMAND_FAILED", "exited with code 3\nstderr (last lines):\n  disk full");
    const lines = [
      plainLine({ type: "job:start", job: "j", tasks: 1, at }, undefined),
      plainLine({ type: "task:succeeded", taskId: "a", attempt: 1, output: 1, at: 2_500 }, at),
      plainLine({ type: "task:failed", taskId: "b", attempts: 3, error, at }, at),
      plainLine({ type: "task:retry", taskId: "b", attempt: 1, error: new Error("503"), delayMs: 200, at }, at),
      plainLine({ type: "task:cancelled", taskId: "c", error: new CancelledError("cancelled", "cancel", "x"), at }, undefined),
      plainLine({ type: "task:output", taskId: "a", attempt: 1, stream: "stderr", line: "warning: x", at }, at),
      plainLine({ type: "node:lost", pool: "cpu", nodeId: "w-1", error: new Error("crashed"), at }, undefined),
      plainLine({ type: "task:ready", taskId: "a", at }, undefined),
    ];
    assert.deepEqual(lines, [
      '▶ job "j": 1 task',
      "✓ a 1.5s",
      "✗ b: exited with code 3 … (after 3 attempts)",
      "↻ b: attempt 1 failed, retrying in 200ms: 503",
      "⊘ c cancelled",
      "[a] warning: x",
      '! node w-1 of pool "cpu" was lost: crashed',
      undefined,
    ]);
  });

  it("writes an event as one line of JSON: errors as { name, code, message }, big integers as strings, a value JSON cannot write as its description", () => {
    const failed = JSON.parse(eventJson({ type: "task:failed", taskId: "b", attempts: 1, error: new FlotillaError("E_X", "boom"), at: 5 }));
    assert.deepEqual(failed, { type: "task:failed", taskId: "b", attempts: 1, error: { name: "FlotillaError", code: "E_X", message: "boom" }, at: 5 });
    const plainError = JSON.parse(eventJson({ type: "task:failed", taskId: "b", attempts: 1, error: new TypeError("bad"), at: 5 }));
    assert.deepEqual(plainError.error, { name: "TypeError", message: "bad" });
    const big = JSON.parse(eventJson({ type: "task:succeeded", taskId: "a", attempt: 1, output: { n: 10n }, at: 5 }));
    assert.deepEqual(big.output, { n: "10" });
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    const line = eventJson({ type: "task:succeeded", taskId: "a", attempt: 1, output: loop, at: 5 });
    assert.ok(!line.includes("\n"));
    const circular = JSON.parse(line);
    assert.equal(circular.taskId, "a");
    assert.match(circular.output, /^\(object that JSON cannot write: .*circular/i);
  });

  it("writes job:end with the run's result, tasks by id and outputs included", async () => {
    const job = new Job("j")
      .task("a", () => 1)
      .task("b", { dependsOn: ["a"] }, () => {
        throw new FlotillaError("E_Y", "no");
      });
    const result = await run(job);
    const end = JSON.parse(eventJson({ type: "job:end", job: "j", status: result.status, result, at: 1 }));
    assert.equal(end.result.tasks.a.output, 1);
    assert.deepEqual(end.result.tasks.b.error, { name: "FlotillaError", code: "E_Y", message: "no" });
  });
});

describe("cli: live frame", () => {
  const feed = (tally: RunTally, events: RunEvent[]): void => {
    for (const event of events) tally.observe(event);
  };

  it("counts tasks by state and nodes by pool, and says ETA — until a task has finished", () => {
    const tally = new RunTally();
    feed(tally, [
      { type: "job:start", job: "build", tasks: 4, at: 0 },
      { type: "node:start", pool: "cpu", nodeId: "n1", slots: 2, priority: "dedicated", at: 0 },
      { type: "node:start", pool: "cpu", nodeId: "n2", slots: 2, priority: "dedicated", at: 0 },
      { type: "task:start", taskId: "a", attempt: 1, pool: "cpu", nodeId: "n1", slots: 1, at: 0 },
      { type: "task:start", taskId: "b", attempt: 1, pool: "cpu", nodeId: "n2", slots: 1, at: 0 },
    ]);
    assert.equal(renderFrame(tally, 500, 200).split("\n").at(-1), "500ms elapsed · ETA —");
    feed(tally, [
      { type: "task:succeeded", taskId: "a", attempt: 1, output: 1, at: 1_000 },
      { type: "node:lost", pool: "cpu", nodeId: "n2", error: new Error("x"), at: 1_000 },
      { type: "task:requeued", taskId: "b", attempt: 1, error: new Error("x"), at: 1_000 },
      { type: "task:start", taskId: "b", attempt: 1, pool: "cpu", nodeId: "n1", slots: 1, at: 1_000 },
    ]);
    assert.deepEqual(tally.counts, { running: 1, succeeded: 1, failed: 0, cancelled: 0, skipped: 0 });
    assert.equal(tally.queued, 2);
    // 1 s per finished task, 3 tasks left, 1 running: 3 s.
    assert.equal(tally.etaMs(), 3_000);
    assert.deepEqual(renderFrame(tally, 1_500, 200).split("\n"), [
      `build  ${"█".repeat(6)}${"░".repeat(18)}  1/4  25%`,
      "✓ 1 done  ▶ 1 running  … 2 queued  ✗ 0 failed  - 0 skipped",
      "nodes    cpu 1",
      "running  b",
      "1.5s elapsed · ETA 3.0s",
    ]);
  });

  it("cuts each line of the frame to the terminal's width", () => {
    const tally = new RunTally();
    tally.observe({ type: "job:start", job: "j", tasks: 1, at: 0 });
    tally.observe({ type: "task:start", taskId: "a-task-with-a-very-long-name", attempt: 1, pool: "default", nodeId: "n", slots: 1, at: 0 });
    for (const line of renderFrame(tally, 0, 20).split("\n")) assert.ok([...line].length <= 20, line);
    assert.ok(renderFrame(tally, 0, 20).includes("running  a-task-wit…"));
  });
});

describe("cli: plain lines with a journal", () => {
  it("holds its lines until the run is under way (a task starts), then writes them at once", async () => {
    const out: string[] = [];
    const runtime = virtualRuntime();
    const job = new Job<Record<string, unknown>>("held").task("long", ({ sleep }) => sleep(60_000));
    const handle = start(job, { runtime, journal: memoryJournal() });
    const progress = new PlainProgress(handle, { out: { write: (t) => void out.push(t) }, err: { write: () => {} }, quiet: false, holdUntilUnderWay: true });
    let atStart = "";
    handle.on("task:start", () => (atStart = out.join("")));
    await handle.result;
    progress.finish();
    assert.match(atStart, /^▶ job "held": 1 task\n$/, "written when the first task started, not when it ended");
    assert.match(out.join(""), /\n✓ long /);
  });
});

describe("cli: summary", () => {
  it("lists the pools the run used, not one no task ran on", async () => {
    const job = new Job<Record<string, unknown>>("pools").task("a", { pool: "work" }, ({ sleep }) => sleep(10));
    const result = await run(job, { runtime: virtualRuntime(), trace: true, pools: { work: inProcess() } });
    assert.ok("default" in result.pools, "the run has its default pool");
    const text = summaryText(result, { width: 100 });
    assert.match(text, /│ work +│ 1 +│/);
    assert.doesNotMatch(text, /default/);
  });

  it("sums up a run: headline, counts, every failed task with its whole message, the five slowest, the critical path", async () => {
    // On virtual time, so every duration (and so the order of the slowest and the path) is exact.
    const job = new Job<Record<string, unknown>>("sum");
    job.task("fetch", ({ sleep }) => sleep(1_000));
    for (let i = 1; i <= 6; i++) job.task(`t${i}`, { dependsOn: ["fetch"] }, ({ sleep }) => sleep(100 * i));
    job.task("bad", { dependsOn: ["t2"] }, async ({ sleep }) => {
      await sleep(50);
      throw new Error("first line\nsecond line");
    });
    job.task("after", { dependsOn: ["bad"] }, () => 0);
    job.task("last", { dependsOn: ["t1", "t6"] }, ({ sleep }) => sleep(10));
    const result = await run(job, { runtime: virtualRuntime(), trace: true });
    const text = summaryText(result, { width: 100 });
    assert.match(text, /^job "sum" failed after 1\.6s: 1 task failed\n/);
    assert.match(text, /│ succeeded │ failed │ cancelled │ skipped │ total │ elapsed │\n.*\n│ 8 +│ 1 +│ 0 +│ 1 +│ 10 +│ 1\.6s +│/);
    assert.match(text, /│ bad +│ 1 +│ first line +│\n│ +│ +│ second line +│/);
    const rows = (title: string) =>
      [
        ...text
          .split(title)[1]!
          .split("└")[0]!
          .matchAll(/^│ (\S+) +│ (\S+) +│ (\S+) +│$/gm),
      ].map((m) => m.slice(1));
    assert.deepEqual(rows("slowest tasks"), [
      ["fetch", "1.0s", "1"],
      ["t6", "600ms", "1"],
      ["t5", "500ms", "1"],
      ["t4", "400ms", "1"],
      ["t3", "300ms", "1"],
    ]);
    assert.deepEqual(rows("critical path (1.6s)"), [
      ["fetch", "+0ms", "1.0s"],
      ["t6", "+1.0s", "600ms"],
      ["last", "+1.6s", "10ms"],
    ]);
    assert.ok(!text.includes("\u001b"), "no colour");
  });
});

describe("cli: summary of a resumed run", () => {
  it("leaves tasks restored from the journal out of the slowest tasks (they did not run)", async () => {
    const journal = memoryJournal();
    let fail = true;
    const job = new Job<Record<string, unknown>>("resumed");
    job.task("long", ({ sleep }) => sleep(1_000));
    job.task("flaky", async ({ sleep }) => {
      await sleep(200);
      if (fail) throw new Error("not yet");
    });
    const first = await run(job, { runtime: virtualRuntime(), trace: true, journal });
    assert.equal(first.status, "failed");
    fail = false;
    const again = await run(job, { runtime: virtualRuntime(), trace: true, journal });
    assert.equal(again.tasks.get("long")!.restored, true);
    const text = summaryText(again, { width: 100 });
    const slowest = text.split("slowest tasks")[1]!.split("└")[0]!;
    assert.match(slowest, /│ flaky +│ 200ms +│ 1 +│/);
    assert.doesNotMatch(slowest, /long/);
  });
});

describe("cli: a journal that refuses the run, and one that fails it", () => {
  /** A memory journal whose open() or whose append of a task's end fails. */
  function failing(at: "open" | "task record"): Journal {
    const inner = memoryJournal("flaky journal");
    return {
      name: inner.name,
      open: () => (at === "open" ? Promise.reject(new Error("cannot read the file")) : inner.open()),
      append: (records) => (records.some((r) => r.type === "task") ? Promise.reject(new Error("disk full")) : inner.append(records)),
      close: () => inner.close(),
    };
  }
  const job = () => new Job<Record<string, unknown>>("j").task("a", () => 1).task("b", { dependsOn: ["a"] }, () => 2);

  it("a journal that fails before any task did anything is a refusal (exit 2): nothing ran", async () => {
    const result = await run(job(), { runtime: virtualRuntime(), journal: failing("open") });
    assert.equal(journalRefusal(result)?.code, "E_JOURNAL_FAILED");
  });

  it("a journal that fails after a task was attempted fails the run (exit 1, with its summary)", async () => {
    const result = await run(job(), { runtime: virtualRuntime(), journal: failing("task record") });
    assert.equal((result.error as FlotillaError).code, "E_JOURNAL_FAILED");
    assert.equal(result.tasks.get("a")!.attempts, 1);
    assert.equal(journalRefusal(result), undefined);
  });

  it("another run's lock on the journal, before anything ran, is a refusal", async () => {
    const journal = memoryJournal();
    await journal.open();
    const result = await run(job(), { runtime: virtualRuntime(), journal });
    assert.equal(journalRefusal(result)?.code, "E_JOURNAL_LOCKED");
  });
});

describe("cli: flags and errors", () => {
  it("reads --concurrency as a whole number >= 1 or Infinity, and --grace as milliseconds", () => {
    assert.equal(parseConcurrency("4"), 4);
    assert.equal(parseConcurrency("infinity"), Infinity);
    for (const bad of ["0", "-1", "1.5", "two", "", "1e3"]) {
      assert.throws(() => parseConcurrency(bad), {
        code: "E_INVALID_OPTION",
        message: `--concurrency must be a whole number >= 1 (or Infinity), received ${JSON.stringify(bad)}`,
      });
    }
    assert.equal(parseGraceMs("0"), 0);
    assert.equal(parseGraceMs("2500"), 2_500);
    for (const bad of ["-1", "soon", "", "Infinity"]) assert.throws(() => parseGraceMs(bad), { code: "E_INVALID_OPTION" });
    const options = runCommandOptions("job.mjs", { journal: "j.log", trace: "t.json", report: "r.html" });
    assert.deepEqual(options, {
      file: "job.mjs",
      concurrency: Infinity,
      failFast: false,
      json: false,
      graceMs: 5_000,
      dryRun: false,
      quiet: false,
      journal: "j.log",
      trace: "t.json",
      report: "r.html",
    });
  });

  it("refuses --dry-run with --journal, --trace or --report, naming them: a dry run executes nothing", () => {
    for (const [flags, named] of [
      [{ journal: "j" }, "--journal"],
      [{ trace: "t.json", report: "r.html" }, "--trace, --report"],
    ] as const) {
      assert.throws(() => runCommandOptions("job.yaml", { dryRun: true, ...flags }), {
        code: "E_INVALID_OPTION",
        message: new RegExp(`^--dry-run cannot be combined with ${named}: a dry run executes nothing`),
      });
    }
    assert.equal(runCommandOptions("job.yaml", { dryRun: true }).dryRun, true);
  });

  it("maps a run's status and an error to the exit code, and shows a user's error without a stack", () => {
    assert.deepEqual(
      ["succeeded", "failed", "cancelled"].map((s) => exitCodeOfStatus(s as never)),
      [0, 1, 130],
    );
    for (const code of ["E_JOB_FILE", "E_INVALID_OPTION", "E_CYCLE", "E_UNKNOWN_DEPENDENCY", "E_DUPLICATE_TASK"]) {
      assert.equal(exitCodeOfError(new FlotillaError(code, "x")), 2, code);
    }
    assert.equal(exitCodeOfError(new FlotillaError("E_JOURNAL_LOCKED", "x")), 1);
    assert.equal(exitCodeOfError(new Error("x")), 1);
    assert.equal(describeError(new FlotillaError("E_CYCLE", "a -> b -> a")), "flotilla: E_CYCLE: a -> b -> a");
    assert.equal(describeError(new FlotillaError("E_JOB_FILE", 'job file "x" is invalid:\n  - y')), 'flotilla: job file "x" is invalid:\n  - y');
    assert.match(describeError(new TypeError("oops")), /^flotilla: unexpected error: TypeError: oops\n\s+at /);
  });
});
