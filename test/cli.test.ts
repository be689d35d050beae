/**
 * The `flotilla` command, run as a user runs it (`node bin/flotilla.mjs`, built by `npm run -s build`):
 * exit codes, the three progress modes (JSON lines, plain lines, a live view on a terminal), and
 * Ctrl-C / SIGTERM, after which no command the job started may still run.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixture, flotilla, flotillaInTerminal, hasScript, root, startCommand, bin, sendSignal, killStrays, type Running } from "./fixtures/cli/flotilla.ts";
import { isRunning, untilGone } from "./processes.ts";

/** Any ANSI escape sequence (CSI or a lone ESC). */
const ESC = "\u001b";

/**
 * Every pid a test saw: each test checks its own are gone. What a failed test left running is killed
 * after the file, or when the runner ends the file early (a per-test timeout exits the process).
 */
const seenPids: number[] = [];
const cleanUp = (): void => killStrays(seenPids);
after(cleanUp);
process.on("exit", cleanUp);

function jsonLines(text: string): Record<string, any>[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, any>);
}

/** Waits until each of the hang fixture's three commands has printed its pid (a task:output event), and returns the pids. */
async function pidsFromJson(running: Running): Promise<number[]> {
  const pids = new Map<string, number>();
  await running.stdout.until((line) => {
    const event = JSON.parse(line) as { type: string; taskId?: string; line?: string };
    if (event.type === "task:output") pids.set(event.taskId!, Number(event.line));
    return pids.size === 3;
  });
  seenPids.push(...pids.values());
  return [...pids.values()];
}

describe("flotilla: exit codes", () => {
  it("exits 0 when the job succeeds", async () => {
    const { code, stderr } = await flotilla(["run", fixture("ok.mjs")]);
    assert.equal(code, 0, stderr);
  });

  it("exits 1 when a task fails, and names it with its error in the summary", async () => {
    const { code, stdout } = await flotilla(["run", fixture("fail.mjs")]);
    assert.equal(code, 1);
    assert.match(stdout, /job "fail" failed after .*: 1 task failed/);
    assert.match(stdout, /│ broken +│ 1 +│ task "broken" attempt 1: command/);
    assert.match(stdout, /disk full/, "the error's stderr tail is in the summary");
  });

  it("exits 2 for a job file that is not a Job, one that does not exist, and one with a cycle, with a readable message and no stack", async () => {
    const notAJob = await flotilla(["run", fixture("not-a-job.mjs")]);
    assert.equal(notAJob.code, 2);
    assert.match(
      notAJob.stderr,
      /^flotilla: job file .*not-a-job\.mjs has a problem:\n {2}.*not-a-job\.mjs tasks: expected an array of at least one task, found array \[\]\n$/,
    );
    const missing = await flotilla(["run", fixture("no-such-file.mjs")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no-such-file\.mjs: cannot read the file: ENOENT/);
    const cycle = await flotilla(["run", fixture("cycle.mjs")]);
    assert.equal(cycle.code, 2);
    assert.match(
      cycle.stderr,
      /cycle\.mjs: the exported job "cycle" cannot run: job "cycle" has a dependency cycle: a -> b -> a \(each task depends on the next\)\n$/,
    );
    for (const { stderr } of [notAJob, missing, cycle]) assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace for a user error");
  });

  it("exits 2 for an unknown flag, an unknown command, a missing file argument, and flag values out of range", async () => {
    const cases: [args: string[], message: RegExp][] = [
      [["run", fixture("ok.mjs"), "--concurency", "2"], /unknown option '--concurency'/],
      [["launch", fixture("ok.mjs")], /unknown command 'launch'/],
      [["run"], /missing required argument 'file'/],
      [["run", fixture("ok.mjs"), "--concurrency", "0"], /--concurrency must be a whole number >= 1 \(or Infinity\), received "0"/],
      [["run", fixture("ok.mjs"), "--grace", "soon"], /--grace must be a number of milliseconds from 0 to \d+, received "soon"/],
      [[], /Usage: flotilla/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await flotilla(args);
      assert.equal(code, 2, `flotilla ${args.join(" ")}`);
      assert.match(stderr, message);
      assert.equal(stdout, "", "nothing ran");
    }
  });

  it("exits 0 for --help and --version, which print the usage and the package's version", async () => {
    const help = await flotilla(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: flotilla \[options\] \[command\]/);
    assert.match(help.stdout, /Exit codes: 0 succeeded, 1 a task failed, 2 invalid job file or options, 130 cancelled/);
    const runHelp = await flotilla(["run", "--help"]);
    assert.equal(runHelp.code, 0);
    for (const flag of ["--concurrency", "--fail-fast", "--json", "--grace", "--dry-run", "--quiet", "--journal", "--trace", "--report"]) {
      assert.ok(runHelp.stdout.includes(flag), `run --help names ${flag}`);
    }
    const version = await flotilla(["--version"]);
    assert.equal(version.code, 0);
    assert.equal(version.stdout, `${(JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version}\n`);
  });

  it("validate: exits 0 and counts the tasks of a valid job, 2 for a cycle", async () => {
    const ok = await flotilla(["validate", fixture("ok.mjs")]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /ok\.mjs is valid: 3 tasks, pools default\n$/);
    const cycle = await flotilla(["validate", fixture("cycle.mjs")]);
    assert.equal(cycle.code, 2);
    assert.match(cycle.stderr, /dependency cycle: a -> b -> a/);
  });
});

describe("flotilla run: flags", () => {
  it("--dry-run prints the simulated makespan, peak nodes and cost, and runs nothing; with --json, the report as JSON", async () => {
    // The tasks run `false`: a real run would fail. Estimates 2 s then 1.4 s, VMs booting in 1 s.
    const plain = await flotilla(["run", fixture("dry-run.yaml"), "--dry-run"]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(
      plain.stdout,
      /^dry run of job "dry": 2 tasks, nothing was run\n {2}plan +succeeded\n {2}makespan +4\.\ds\n {2}peak nodes +render 1\n {2}cost +0\.0\d{3}\n$/,
    );
    const json = await flotilla(["run", fixture("dry-run.yaml"), "--dry-run", "--json"]);
    const report = JSON.parse(json.stdout) as { makespanMs: number; criticalPath: string[]; criticalPathMs: number; peakNodes: unknown; cost: number };
    assert.deepEqual(report.criticalPath, ["a", "b"]);
    assert.equal(report.criticalPathMs, 3400);
    assert.ok(report.makespanMs >= 4400 && report.makespanMs < 5000, `makespan ${report.makespanMs}: boot, then 3.4 s of work`);
    assert.deepEqual(report.peakNodes, { render: 1 });
    assert.ok(report.cost > 0.009 && report.cost < 0.011, `cost ${report.cost}: about 10 VM-seconds at 0.001 a second`);
  });

  it("--dry-run of a plan that fails says so, lists each task that would not succeed with why, and exits 1; --json too", async () => {
    // Every VM fails to boot: "a" fails, "b" (after it) is skipped.
    const plain = await flotilla(["run", fixture("dry-run-fails.yaml"), "--dry-run"]);
    assert.equal(plain.code, 1, plain.stderr);
    assert.match(plain.stdout, /^dry run of job "dry-fails": 2 tasks, nothing was run\n {2}plan +failed: 2 of 2 tasks would not succeed\n/);
    assert.match(
      plain.stdout,
      /\n {2}would not succeed:\n {4}a {2}failed: .*could not start a node: .*failed to start.*\n {4}b {2}skipped: .*dependency "a" failed\n$/,
    );
    const json = await flotilla(["run", fixture("dry-run-fails.yaml"), "--dry-run", "--json"]);
    assert.equal(json.code, 1, json.stderr);
    const report = JSON.parse(json.stdout) as { status: string; unfinished: { id: string; status: string }[] };
    assert.equal(report.status, "failed");
    assert.deepEqual(
      report.unfinished.map((task) => [task.id, task.status]),
      [
        ["a", "failed"],
        ["b", "skipped"],
      ],
    );
  });

  it("--dry-run with --journal, --trace or --report is refused with exit 2, saying a dry run executes nothing; nothing is written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flotilla-cli-dry-"));
    try {
      const trace = join(dir, "trace.json");
      const both = await flotilla(["run", fixture("dry-run.yaml"), "--dry-run", "--trace", trace, "--report", join(dir, "r.html")]);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /^flotilla: E_INVALID_OPTION: --dry-run cannot be combined with --trace, --report: a dry run executes nothing/);
      assert.equal(both.stdout, "", "nothing ran");
      const journal = await flotilla(["run", fixture("dry-run.yaml"), "--dry-run", "--journal", join(dir, "j")]);
      assert.equal(journal.code, 2);
      assert.match(journal.stderr, /--dry-run cannot be combined with --journal: /);
      assert.deepEqual(readdirSync(dir), [], "no file was written");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--fail-fast cancels the rest at the first failure: the run fails (exit 1) and the waiting command is stopped", async () => {
    const running = startCommand("node", [bin, "run", fixture("fail-fast.mjs"), "--fail-fast", "--json"]);
    const { code } = await running.exited;
    assert.equal(code, 1, running.stderr.text);
    const events = jsonLines(running.stdout.text);
    const end = events.at(-1)!;
    assert.equal(end.type, "job:end");
    assert.equal(end.result.tasks.broken.status, "failed");
    assert.equal(end.result.tasks.slow.status, "cancelled");
    const pid = events.find((e) => e.type === "task:output" && e.taskId === "slow");
    if (pid !== undefined) {
      seenPids.push(Number(pid.line));
      await untilGone(Number(pid.line));
    }
  });

  it("--concurrency 1 runs one attempt at a time", async () => {
    const { code, stdout } = await flotilla(["run", fixture("in-process.mjs"), "--concurrency", "1", "--json"]);
    assert.equal(code, 0);
    let running = 0;
    let most = 0;
    for (const event of jsonLines(stdout)) {
      if (event.type === "task:start") most = Math.max(most, ++running);
      if (event.type === "task:succeeded") running--;
    }
    assert.equal(most, 1);
    const unbounded = await flotilla(["run", fixture("in-process.mjs"), "--json"]);
    assert.equal(jsonLines(unbounded.stdout).filter((e) => e.type === "task:start").length, 4);
  });
});

describe("flotilla run: output modes", () => {
  it("--json writes one JSON object per run event and nothing else on stdout, errors as { name, code, message }", async () => {
    const { code, stdout } = await flotilla(["run", fixture("fail.mjs"), "--json"]);
    assert.equal(code, 1);
    const events = jsonLines(stdout); // throws on any line that is not JSON
    assert.equal(events[0]!.type, "job:start");
    assert.equal(events.at(-1)!.type, "job:end");
    assert.equal(events.at(-1)!.status, "failed");
    assert.equal(events.at(-1)!.result.counts.failed, 1);
    assert.ok(events.some((e) => e.type === "task:output" && e.taskId === "fine" && e.line === "fine"));
    const succeeded = events.find((e) => e.type === "task:succeeded" && e.taskId === "fine")!;
    assert.equal(succeeded.output, "fine", "outputs are included");
    const failed = events.find((e) => e.type === "task:failed")!;
    assert.deepEqual(Object.keys(failed.error), ["name", "code", "message"]);
    assert.equal(failed.error.code, "E_COMMAND_FAILED");
    const skipped = events.find((e) => e.type === "task:skipped")!;
    assert.equal(skipped.error.code, "E_DEPENDENCY_FAILED");
  });

  it("--json with --quiet leaves out the task:output events", async () => {
    const { stdout } = await flotilla(["run", fixture("ok.mjs"), "--json", "--quiet"]);
    const types = jsonLines(stdout).map((e) => e.type);
    assert.ok(types.includes("job:end"));
    assert.ok(!types.includes("task:output"));
  });

  it("without a terminal writes plain lines (one per task end, output prefixed with the task id) and no escape codes", async () => {
    const { code, stdout, stderr } = await flotilla(["run", fixture("fail.mjs")]);
    assert.equal(code, 1);
    assert.ok(!stdout.includes(ESC) && !stderr.includes(ESC), `no ANSI escapes in:\n${stdout}${stderr}`);
    const lines = stdout.split("\n");
    assert.equal(lines[0], '▶ job "fail": 3 tasks');
    assert.ok(lines.some((l) => /^✓ fine \d+(ms|\.\ds)$/.test(l)));
    assert.ok(lines.some((l) => /^✗ broken: task "broken" attempt 1: command .* exited with code 3/.test(l)));
    assert.ok(lines.includes('- after skipped: task "after" was skipped: its dependency "broken" failed'));
    assert.ok(lines.includes("[fine] fine"));
    assert.ok(lines.includes("[broken] disk full"));
    assert.ok(lines.some((l) => l.startsWith('job "fail" failed after')));
  });

  it("goes on to the end when the reader of its stdout goes away (`| head -1`), without an EPIPE crash", async () => {
    const running = startCommand("node", [bin, "run", fixture("fail.mjs"), "--json"]);
    await running.stdout.until((line) => line.includes('"job:start"'));
    running.child.stdout!.destroy(); // what `head -1` does after its line: later writes get EPIPE
    const { code } = await running.exited;
    assert.equal(code, 1, "the run's own exit code");
    assert.equal(running.stderr.text, "");
  });

  it("--quiet hides the tasks' output lines and keeps the rest", async () => {
    const { code, stdout } = await flotilla(["run", fixture("ok.mjs"), "--quiet"]);
    assert.equal(code, 0);
    assert.doesNotMatch(stdout, /^\[fetch\]/m);
    assert.match(stdout, /^✓ fetch /m);
  });

  it("on a terminal redraws its progress in place, prints task output above it, and ends with the summary", {
    skip: !hasScript() && "needs util-linux script",
  }, async () => {
    const { code, output } = await flotillaInTerminal(["run", fixture("ok.mjs")]);
    assert.equal(code, 0, output);
    const text = output.replaceAll("\r\n", "\n");
    // A redraw: log-update moves the cursor up and erases the lines it drew before (ESC[nA, ESC[2K).
    assert.match(text, new RegExp(`${ESC}\\[\\d+A`), "cursor up");
    assert.ok(text.includes(`${ESC}[2K`), "erase line");
    // The first frame (nothing done yet) and the last (all done) were both drawn.
    assert.match(text, /ok {2}░+ {2}0\/3 {2}0%/);
    assert.match(text, /ok {2}█+ {2}3\/3 {2}100%/);
    assert.match(text, /✓ 3 done {2}▶ 0 running {2}… 0 queued {2}✗ 0 failed {2}- 0 skipped/);
    assert.match(text, /elapsed · ETA /);
    assert.ok(text.includes("[fetch] fetched 3 rows"), "task output above the frame");
    assert.match(text, /job "ok" succeeded in /);
    assert.match(text, /│ succeeded │ failed │ cancelled │ skipped │ total │ elapsed │/);
    assert.match(text, /critical path/);
  });
});

describe("flotilla run: Ctrl-C and SIGTERM", () => {
  it("the first SIGINT cancels the run: exit 130, and every command it started is gone", async () => {
    const running = startCommand("node", [bin, "run", fixture("hang.mjs"), "--json"]);
    const pids = await pidsFromJson(running);
    sendSignal(running, "SIGINT");
    const { code } = await running.exited;
    assert.equal(code, 130, running.stderr.text);
    assert.match(running.stderr.text, /SIGINT: cancelling the run; running tasks get up to 5\.0s to stop\. Press Ctrl-C again/);
    const end = jsonLines(running.stdout.text).at(-1)!;
    assert.equal(end.type, "job:end");
    assert.equal(end.status, "cancelled");
    for (const pid of pids) await untilGone(pid);
  });

  it("SIGTERM does the same, in plain mode", async () => {
    const running = startCommand("node", [bin, "run", fixture("hang.mjs")]);
    const pids: number[] = [];
    await running.stdout.until((line) => {
      const printed = /^\[(one|two|three)\] (\d+)$/.exec(line);
      if (printed) pids.push(Number(printed[2]));
      return pids.length === 3;
    });
    seenPids.push(...pids);
    sendSignal(running, "SIGTERM");
    const { code } = await running.exited;
    assert.equal(code, 130, running.stderr.text);
    assert.match(running.stdout.text, /job "hang" was cancelled after .*SIGTERM/);
    assert.match(running.stdout.text, /^⊘ one cancelled$/m);
    for (const pid of pids) await untilGone(pid);
  });

  it("a second SIGINT kills at once commands that ignore SIGTERM, which the first alone would leave running for ten minutes", async () => {
    // The fixture's commands trap SIGTERM and their provider waits 10 minutes before SIGKILL; --grace
    // lets the run wait as long: after the first SIGINT they keep running.
    const running = startCommand("node", [bin, "run", fixture("hang.mjs"), "--json", "--grace", "600000"], { FLOTILLA_TEST_IGNORE_TERM: "1" });
    const pids = await pidsFromJson(running);
    sendSignal(running, "SIGINT");
    await running.stderr.until((line) => line.includes("Press Ctrl-C again"));
    assert.match(running.stderr.text, /running tasks get up to 10m00s to stop/);
    for (const pid of pids) assert.ok(isRunning(pid), `command ${pid} ignores SIGTERM: the first SIGINT does not end it`);
    sendSignal(running, "SIGINT");
    const { code } = await running.exited;
    assert.equal(code, 130, running.stderr.text);
    assert.match(running.stderr.text, /SIGINT again: killing every task still running/);
    for (const pid of pids) await untilGone(pid);
  });
});
