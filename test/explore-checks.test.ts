/**
 * What explore() checks by itself and what a test can add: invariants after every step, liveness
 * ("eventually"), step bounds, leaks, uncontrolled work, unhandled rejections; and fault plans.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError, Job, run, start } from "../src/index.ts";
import { ScheduleFailure, explore, replay, type ExploreContext } from "../src/testing/index.ts";

const failure = (body: (t: ExploreContext) => unknown, options?: Parameters<typeof explore>[1]) =>
  explore(body, { iterations: 5, ...options }).then(
    () => assert.fail("expected the exploration to fail"),
    (e: unknown) => {
      assert.ok(e instanceof ScheduleFailure, String(e));
      return e;
    },
  );

const sleeper =
  (ms: number) =>
  async ({ sleep }: { sleep: (ms: number) => Promise<void> }) =>
    sleep(ms);

describe("checks on every schedule", () => {
  it("reports steps, strategy and a decision hash that the same seed reproduces", async () => {
    const body = async (t: ExploreContext) => {
      const job = new Job("j")
        .task("a", sleeper(3))
        .task("b", sleeper(3))
        .task("c", { dependsOn: ["a", "b"] }, sleeper(1));
      assert.equal((await run(job, { runtime: t.runtime, concurrency: 2 })).status, "succeeded");
    };
    const first = await explore(body, { iterations: 30, seed: 9 });
    const second = await explore(body, { iterations: 30, seed: 9 });
    assert.equal(first.iterations, 30);
    assert.equal(first.seeds.length, 30);
    assert.deepEqual(first.seeds, second.seeds);
    assert.equal(new Set(first.seeds).size, 30, "every schedule has a seed of its own");
    assert.equal(first.strategy, "default");
    assert.ok(first.steps.min > 0 && first.steps.min <= first.steps.median && first.steps.median <= first.steps.max);
    assert.equal(first.decisionHash, second.decisionHash);
    assert.notEqual((await explore(body, { iterations: 30, seed: 10 })).decisionHash, first.decisionHash);
  });

  it("runs a user invariant after every step", async () => {
    const f = await failure(async (t) => {
      let running = 0;
      t.invariant("at most one upload at a time", () => running <= 1);
      const upload = async ({ sleep }: { sleep: (ms: number) => Promise<void> }) => {
        running++;
        await sleep(5);
        running--;
      };
      await run(new Job("j").task("u1", upload).task("u2", upload), { runtime: t.runtime });
    });
    assert.match((f.cause as Error).message, /invariant "at most one upload at a time" does not hold/);
  });

  it("checks liveness: after faults stop, the job must finish within N steps", async () => {
    const body = async (t: ExploreContext) => {
      let done = false;
      t.eventually("the job finished", () => done, { withinSteps: 40 });
      const job = new Job("j").task("a", { retries: 20, backoff: { initialMs: 1, factor: 1 } }, sleeper(1));
      const result = await run(job, { runtime: t.runtime });
      done = result.status === "succeeded";
    };
    const report = await explore(body, {
      iterations: 20,
      seed: 1, // that faults fired in 20 schedules is likely, not certain: a fixed seed makes it so
      faults: { "task.attempt": { probability: 0.5, action: { kind: "fail" } } },
      faultsStopAfter: 10,
    });
    assert.ok((report.faultsFired["task.attempt"] ?? 0) > 0, "faults fired");
    // With faults forever, retries run out: "eventually" can no longer hold.
    const f = await failure(body, { iterations: 20, faults: { "task.attempt": { action: { kind: "fail" } } } });
    assert.match((f.cause as Error).message, /liveness: "the job finished" never held/);
  });

  it("fails a schedule that does not finish within maxSteps, or passes it when asked", async () => {
    const endless = async (t: ExploreContext) => {
      for (;;) await new Promise<void>((resolve) => t.runtime.setTimer(1, resolve, "timer tick"));
    };
    const f = await failure(endless, { maxSteps: 50 });
    assert.match(f.message, /liveness/);
    assert.match((f.cause as Error).message, /had not finished after maxSteps \(50\) steps/);
  });

  it("reports what a test left behind (a timer nobody cleared)", async () => {
    const f = await failure(async (t) => {
      t.runtime.setTimer(1_000, () => {}, "timer forgotten");
    });
    assert.match((f.cause as Error).message, /left behind when the test ended: timer forgotten/);
  });

  it("fails, with a message, a schedule that uses a real timer", async () => {
    const f = await failure(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
    });
    assert.match((f.cause as Error).message, /started a real timer \(setTimeout, 1 ms\) that the controlled runtime does not control/);
  });

  // deno test fails a test on an unhandled rejection by itself, before explore() can claim it.
  const deno = (globalThis as { Deno?: unknown }).Deno !== undefined;
  it("fails a schedule with an unhandled rejection", { skip: deno && "deno test reports it itself" }, async () => {
    const f = await failure(async (t) => {
      void Promise.reject(new Error("nobody caught me"));
      await new Promise<void>((resolve) => t.runtime.setTimer(1, resolve));
    });
    assert.match(f.message, /unhandled rejection/);
    assert.equal((f.cause as Error).message, "nobody caught me");
  });

  it("fails a run the test forgot to await (it never settled)", async () => {
    const f = await failure(async (t) => {
      start(new Job("j").task("a", sleeper(5)), { runtime: t.runtime });
    });
    assert.match((f.cause as Error).message, /had not settled when the test ended|left behind/);
  });
});

describe("fault plans", () => {
  it("fires a rule where its predicate holds: crash `load` on its first attempt", async () => {
    const seen: number[] = [];
    const report = await explore(
      async (t) => {
        const job = new Job("etl")
          .task("extract", sleeper(1))
          .task("load", { dependsOn: ["extract"], retries: 1, backoff: { initialMs: 1 } }, ({ attempt }) => {
            seen.push(attempt);
            return attempt;
          });
        const result = await run(job, { runtime: t.runtime });
        assert.equal(result.output("load"), 2);
      },
      { iterations: 10, faults: { "task.attempt": { when: (c) => c.taskId === "load" && c.attempt === 1, action: { kind: "fail" } } } },
    );
    assert.equal(report.faultsFired["task.attempt"], 10);
    assert.ok(
      seen.every((a) => a === 2),
      "attempt 1 never ran its body",
    );
  });

  it("turns probabilistic rules on in some schedules and off in others, and counts what fired", async () => {
    let failedRuns = 0;
    const report = await explore(
      async (t) => {
        const job = new Job<Record<string, unknown>>("j");
        for (let i = 0; i < 10; i++) job.task(`t${i}`, sleeper(1));
        if ((await run(job, { runtime: t.runtime })).status === "failed") failedRuns++;
      },
      { iterations: 100, seed: 4, faults: { "task.attempt": { probability: 0.2, action: { kind: "fail" } } } },
    );
    assert.ok(failedRuns > 10 && failedRuns < 90, `${failedRuns} of 100 schedules had a fault`);
    assert.ok((report.faultsFired["task.attempt"] ?? 0) >= failedRuns);
  });

  it("can cancel the run at a chosen step, and fail calls to a modelled service", async () => {
    const report = await explore(
      async (t) => {
        const api = t.service("api", { latencyMs: 2 });
        const job = new Job("j").task("call", () => api.call("get", () => 1)).task("next", { dependsOn: ["call"] }, sleeper(1));
        const result = await run(job, { runtime: t.runtime });
        assert.notEqual(result.status, "succeeded");
      },
      {
        iterations: 10,
        faults: {
          "service.call": { when: (c) => c.detail === "api.get", action: { kind: "fail", error: new Error("503") } },
          "job.cancel": { when: (c) => c.taskId === "next", action: { kind: "cancel", reason: "chaos" } },
        },
      },
    );
    assert.equal(report.faultsFired["service.call"], 10);
  });

  it("loses a dispatch, kills a node after the body ran, loses a node mid-run, delays a completion: all recovered", async () => {
    for (const [point, action] of [
      ["task.dispatch", { kind: "fail" }],
      ["node.run", { kind: "fail" }],
      ["node.lost", { kind: "fail" }],
      ["task.complete", { kind: "delay", ms: 50 }],
      ["node.start", { kind: "fail" }],
      ["provider.call", { kind: "fail" }],
    ] as const) {
      let sideEffects = 0;
      const report = await explore(
        async (t) => {
          const job = new Job("j")
            .task("a", async ({ sleep }) => {
              await sleep(2);
              sideEffects++;
              return "a";
            })
            .task("b", { dependsOn: ["a"] }, ({ deps }) => `${deps.a}b`);
          const result = await run(job, { runtime: t.runtime, maxNodeLosses: 5 });
          assert.equal(result.output("b"), "ab", `${point}: ${String(result.error)}`);
        },
        { iterations: 10, faults: { [point]: { action, times: 1 } } },
      );
      assert.equal(report.faultsFired[point], 10, `${point} fired once per schedule`);
      // A node lost after the body ran means the body ran twice: at-least-once, as documented.
      if (point === "node.run") assert.equal(sideEffects, 20);
    }
  });

  it("replays a schedule whose failure came from probabilistic faults", async () => {
    const body = async (t: ExploreContext) => {
      const job = new Job("j")
        .task("a", sleeper(5))
        .task("b", sleeper(5))
        .task("c", { dependsOn: ["a", "b"], retries: 3, backoff: { initialMs: 1 } }, sleeper(1));
      const result = await run(job, { runtime: t.runtime });
      assert.ok(result.tasks.get("c").attempts <= 2, `c took ${result.tasks.get("c").attempts} attempts`);
    };
    for (const strategy of ["random", "pct"] as const) {
      const f = await failure(body, { iterations: 500, seed: 3, strategy, faults: { "task.attempt": { probability: 0.4, action: { kind: "fail" } } } });
      const again = await replay(body, f.trace).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(again instanceof ScheduleFailure, `${strategy}: ${String(again)}`);
      assert.equal(again.step, f.step);
      assert.equal((again.cause as Error).message, (f.cause as Error).message);
    }
  });

  it("refuses a bad plan or option up front with E_INVALID_OPTION", async () => {
    const bad = (options: object, pattern: RegExp) =>
      assert.rejects(
        explore(() => {}, options as never),
        (e: unknown) => e instanceof FlotillaError && e.code === "E_INVALID_OPTION" && pattern.test(e.message),
      );
    await bad(
      { faults: { "task.attempt": { probability: 2, action: { kind: "fail" } } } },
      /^explore: faults\["task.attempt"\]: option "probability" must be a number from 0 to 1, received number 2$/,
    );
    await bad(
      { faults: { "task.attempt": { action: { kind: "explode" } } } },
      /faults\["task.attempt"\]: option "action" must be \{ kind: "fail" \| "timeout" \| "cancel" \| "delay" \}, received object/,
    );
    await bad({ iterations: 0 }, /option "iterations" must be an integer >= 1/);
    await bad({ strategy: "dfs" }, /option "strategy" must be "random", "pct", "exhaustive" or "default", received string "dfs"/);
    await bad({ iteration: 5 }, /explore: unknown option "iteration" \(did you mean "iterations"\?\)/);
    await bad(
      { faults: { "task.atempt": { action: { kind: "fail" } } } },
      /unknown fault point "task.atempt" \(did you mean "task.attempt"\?\); known fault points: task.dispatch, .*job.cancel, service.call/,
    );
    await bad({ faults: { "service.cal": { action: { kind: "fail" } } } }, /unknown fault point "service.cal" \(did you mean "service.call"\?\)/);
    await bad(
      { faults: { "task.attempt": { probabilty: 0.5, action: { kind: "fail" } } } },
      /^explore: faults\["task.attempt"\]: unknown option "probabilty" \(did you mean "probability"\?\); known options: probability, when, action, times$/,
    );
    await bad(
      { faults: { "task.attempt": [{ action: { kind: "fail" } }, 5] } },
      /^explore: faults\["task.attempt"\]\[1\] must be a rule \{ probability\?, when\?, action, times\? \}, received number 5$/,
    );
    await bad({ faults: [] }, /^explore: option "faults" must be an object of rules by fault point, received array$/);
    await bad([] as never, /^explore: options must be an object, received array$/);
    await bad(
      { faults: { "task.complete": { action: { kind: "delay", ms: -1 } } } },
      /faults\["task.complete"\]: option "action.ms" must be a finite number of milliseconds >= 0, received number -1/,
    );
    await assert.rejects(explore(42 as never), /explore\(test, …\): the test must be a function/);
    const badTrace = (trace: unknown, pattern: RegExp) =>
      assert.rejects(
        replay(() => {}, trace as never),
        (e: unknown) => e instanceof FlotillaError && e.code === "E_INVALID_OPTION" && pattern.test(e.message),
      );
    await badTrace("{bad", /replay: expected a ScheduleFailure, its trace, or the trace's JSON \(version 2\); the text is not JSON: /);
    await badTrace(
      { version: 2, labelFormat: 1, seed: 1, iteration: 0, strategy: "random", maxSteps: 10, choices: [], counts: [], times: [], labels: [] },
      /replay: the trace's "faults" must be an array, received undefined/,
    );
  });

  it("refuses bad arguments to the context's helpers with clear messages", async () => {
    const messages: string[] = [];
    await explore(
      async (t) => {
        const attempts: (() => unknown)[] = [
          () => t.service(42 as never),
          () => t.service("db", { latency: 5 } as never),
          () => t.invariant("x", 42 as never),
          () => t.eventually("y", () => true, { withinSteps: -1 }),
        ];
        for (const attempt of attempts) {
          try {
            attempt();
          } catch (e) {
            assert.ok(e instanceof FlotillaError && e.code === "E_INVALID_OPTION");
            messages.push(e.message);
          }
        }
        await t
          .service("db")
          .call("op", 5 as never)
          .catch((e: FlotillaError) => messages.push(e.message));
      },
      { iterations: 1 },
    );
    assert.equal(messages.length, 5);
    assert.match(messages[0]!, /t.service\(name\): the name must be a non-empty string, received number 42/);
    assert.match(messages[1]!, /service "db": unknown option "latency" \(did you mean "latencyMs"\?\)/);
    assert.match(messages[2]!, /t.invariant\("x", check\): the check must be a function/);
    assert.match(messages[3]!, /option "withinSteps" must be an integer >= 0, received number -1/);
    assert.match(messages[4]!, /call\(op, effect\) needs an operation name and a function/);
  });
});

describe("exhaustive exploration", () => {
  it("works with random latencies: every schedule sees the same random numbers", async () => {
    let branching = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const report = await explore(
        async (t) => {
          const db = t.service("db", { latencyMs: [1, 3] });
          const call = () => db.call("get", () => 1);
          await run(new Job("j").task("a", call).task("b", call).task("c", call), { runtime: t.runtime });
        },
        { strategy: "exhaustive", iterations: 10_000, seed },
      );
      assert.equal(report.schedules?.complete, true, `seed ${seed}`);
      if (report.schedules!.explored > 1) branching++; // latencies that tie give several schedules
    }
    assert.ok(branching > 0, "some seeds give ties to explore");
  });

  it("enumerates every distinct schedule of a small job and says it covered them all", async () => {
    const orders = new Set<string>();
    const report = await explore(
      async (t) => {
        const log: string[] = [];
        const body =
          (id: string) =>
          async ({ sleep }: { sleep: (ms: number) => Promise<void> }) => {
            await sleep(1);
            log.push(id);
          };
        await run(new Job("j").task("a", body("a")).task("b", body("b")).task("c", body("c")), { runtime: t.runtime });
        orders.add(log.join(""));
      },
      { strategy: "exhaustive", iterations: 10_000 },
    );
    assert.equal(report.schedules?.complete, true);
    assert.equal(orders.size, 6, "every order of three completions");
    assert.ok(report.schedules!.explored >= 6 && report.schedules!.explored === report.iterations);
  });

  it("says so when the bound stops it before it covered everything", async () => {
    const report = await explore(
      async (t) => {
        const job = new Job<Record<string, unknown>>("j");
        for (let i = 0; i < 6; i++) job.task(`t${i}`, sleeper(1));
        await run(job, { runtime: t.runtime });
      },
      { strategy: "exhaustive", iterations: 50 },
    );
    assert.deepEqual(report.schedules, { explored: 50, complete: false });
  });
});
