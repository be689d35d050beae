import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CancelledError, Job, realRuntime, run, start, type FaultContext } from "../src/index.ts";
import { virtualRuntime } from "../src/testing/index.ts";

const srcDir = fileURLToPath(new URL("../src/", import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

describe("the determinism seam", () => {
  it("only runtime.ts touches the real clock, real timers or Math.random", () => {
    const forbidden = /\b(Date\.now|new Date\(|setTimeout|setInterval|setImmediate|performance\.now|Math\.random|crypto\.randomUUID)\b/;
    const offenders: string[] = [];
    for (const file of sourceFiles(srcDir)) {
      if (file.endsWith(join("src", "runtime.ts"))) continue;
      // The testing kit yields real macrotasks to reach quiescence, and watches for real timers a
      // schedule must not use; neither file reads real time or randomness.
      if (file.endsWith(join("testing", "macrotask.ts")) || file.endsWith(join("testing", "uncontrolled.ts"))) continue;
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          const code = line.replace(/\/\/.*$/, "").replace(/^\s*\*.*$/, "");
          if (forbidden.test(code)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    assert.deepEqual(offenders, []);
  });

  it("keeps src/ runtime-neutral: no node:* imports, Deno or process", () => {
    const offenders = sourceFiles(srcDir).filter((file) => /from\s+["']node:|\bDeno\.|\bprocess\./.test(readFileSync(file, "utf8")));
    assert.deepEqual(offenders, []);
  });

  it("the real runtime is frozen and does nothing at fault points", () => {
    assert.ok(Object.isFrozen(realRuntime));
    assert.equal(realRuntime.fault, undefined);
  });

  it("a runtime's clock dates the run and its tasks", async () => {
    const runtime = virtualRuntime({ startAt: 1_000 });
    const result = await run(
      new Job("j").task("a", ({ sleep }) => sleep(250)),
      { runtime },
    );
    assert.equal(result.startedAt, 1_000);
    assert.equal(result.tasks.get("a").startedAt, 1_000);
    assert.equal(result.tasks.get("a").finishedAt, 1_250);
    assert.equal(result.durationMs, 250);
  });
});

describe("fault points", () => {
  it("task.attempt can fail a chosen attempt of a chosen task, which then retries", async () => {
    const seen: FaultContext[] = [];
    const runtime = virtualRuntime({
      fault: (point, ctx) => {
        if (point !== "task.attempt") return;
        seen.push(ctx);
        if (ctx.taskId === "load" && ctx.attempt === 1) return { kind: "fail", error: new Error("injected crash") };
      },
    });
    const handle = start(
      new Job("etl").task("load", { retries: 1, backoff: { initialMs: 10 } }, () => "saved"),
      { runtime },
    );
    const errors: unknown[] = [];
    handle.on("task:retry", (e) => errors.push(e.error));
    const result = await handle.result;
    assert.equal(result.output("load"), "saved");
    assert.equal(result.tasks.get("load").attempts, 2);
    assert.equal((errors[0] as Error).message, "injected crash");
    assert.deepEqual(
      seen.map((c) => [c.point, c.jobName, c.taskId, c.attempt, c.nodeId]),
      [
        ["task.attempt", "etl", "load", 1, "in-process"],
        ["task.attempt", "etl", "load", 2, "in-process"],
      ],
    );
  });

  it("task.attempt can time out an attempt without running its body", async () => {
    let ran = 0;
    const runtime = virtualRuntime({ fault: (point, ctx) => (point === "task.attempt" && ctx.attempt === 1 ? { kind: "timeout" } : undefined) });
    const result = await run(
      new Job("j").task("a", { retries: 1, backoff: { initialMs: 0 } }, () => ++ran),
      { runtime },
    );
    assert.equal(result.output("a"), 1);
    assert.equal(result.tasks.get("a").attempts, 2);
    assert.equal(runtime.pendingTimers, 0);
  });

  it("task.complete can turn a finished attempt into a failure (a lost completion)", async () => {
    const runtime = virtualRuntime({ fault: (point) => (point === "task.complete" ? { kind: "fail" } : undefined) });
    const result = await run(
      new Job("j").task("a", () => 1),
      { runtime },
    );
    assert.equal(result.status, "failed");
    assert.match((result.tasks.get("a").error as Error).message, /injected fault at task.complete \(task "a", attempt 1\)/);
  });

  it("job.cancel can cancel the run before a chosen dispatch", async () => {
    const runtime = virtualRuntime({ fault: (point, ctx) => (point === "job.cancel" && ctx.taskId === "b" ? { kind: "cancel", reason: "chaos" } : undefined) });
    const result = await run(
      new Job("j").task("a", () => 1).task("b", { dependsOn: ["a"] }, () => 2),
      { runtime },
    );
    assert.equal(result.status, "cancelled");
    assert.equal(result.output("a"), 1);
    const error = result.tasks.get("b").error as CancelledError;
    assert.equal(error.source, "fault");
    assert.equal(error.reason, "chaos");
  });
});
