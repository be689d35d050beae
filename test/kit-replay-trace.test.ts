/**
 * replay() refuses a trace that could not have been recorded — edited by hand, cut short, from
 * another version — with E_INVALID_OPTION naming the field, before running anything.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError } from "../src/index.ts";
import { LABEL_FORMAT } from "../src/trace-labels.ts";
import { ScheduleFailure, explore, replay, type ExploreContext, type ScheduleTrace } from "../src/testing/index.ts";

/** Two timers due together, in the wrong order half the time: a failure whose trace has several steps and a fault. */
const body = async (t: ExploreContext) => {
  const order: string[] = [];
  await new Promise<void>((resolve) => {
    t.runtime.setTimer(5, () => order.push("a"), "timer a");
    t.runtime.setTimer(5, () => (order.push("b"), resolve()), "timer b");
  });
  await t
    .service("db", { latencyMs: 1 })
    .call("get", () => 1)
    .catch(() => 0);
  assert.deepEqual(order, ["a", "b"]);
};

async function recorded(): Promise<ScheduleTrace> {
  const failure = await explore(body, { iterations: 50, seed: 3, strategy: "random", faults: { "service.call": { action: { kind: "fail" } } } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(failure instanceof ScheduleFailure, String(failure));
  assert.ok(failure.trace.choices.length >= 2 && failure.trace.faults.length === 1, JSON.stringify(failure.trace));
  return failure.trace;
}

describe("replay checks the trace it is given", () => {
  it("replays an untouched trace, as an object or as JSON", async () => {
    const trace = await recorded();
    for (const from of [trace, JSON.stringify(trace)])
      await assert.rejects(replay(body, from), (e: unknown) => e instanceof ScheduleFailure && e.step === trace.choices.length);
  });

  it("refuses impossible contents with E_INVALID_OPTION naming the field", async () => {
    const trace = await recorded();
    const edited = (change: (t: Record<string, any>) => void): unknown => {
      const copy = JSON.parse(JSON.stringify(trace)) as Record<string, any>;
      change(copy);
      return copy;
    };
    const cases: [unknown, RegExp][] = [
      [edited((t) => (t.maxSteps = -1)), /^replay: the trace's "maxSteps" must be an integer >= 1, received number -1$/],
      [edited((t) => (t.maxSteps = "10")), /"maxSteps" must be an integer >= 1, received string "10"$/],
      [edited((t) => (t.maxSteps = 1)), /"choices" must be at most maxSteps \(1\) entries, received \d+$/],
      [edited((t) => (t.iteration = -1)), /"iteration" must be an integer >= 0, received number -1$/],
      [edited((t) => (t.iteration = 1.5)), /"iteration" must be an integer >= 0, received number 1.5$/],
      [edited((t) => (t.strategy = "dfs")), /"strategy" must be "random", "pct" or "exhaustive", received string "dfs"$/],
      [edited((t) => (t.seed = "7")), /"seed" must be an integer, received string "7"$/],
      [edited((t) => (t.version = 1)), /"version" must be 2 \(the trace format this version of flotilla reads\), received number 1$/],
      [edited((t) => delete t.labelFormat), /"labelFormat" must be an integer >= 1 \(the format of its labels\), received undefined$/],
      [edited((t) => delete t.faults), /"faults" must be an array, received undefined$/],
      [edited((t) => (t.labels = t.labels.slice(1))), /"labels" must be as long as "choices" \(\d+ entries\), received \d+$/],
      [edited((t) => (t.choices[0] = t.counts[0])), /"choices\[0\]" must be an integer from 0 to counts\[0\] - 1 \(\d+\), received number \d+$/],
      [edited((t) => (t.counts[1] = 0)), /"counts\[1\]" must be an integer >= 1 \(events ready at that step\), received number 0$/],
      [edited((t) => (t.times[1] = -1)), /"times\[1\]" must be a number >= times\[0\] \(virtual time never goes back\), received number -1$/],
      [edited((t) => (t.labels[0] = 3)), /"labels\[0\]" must be a string, received number 3$/],
      [edited((t) => (t.faults[0].step = -2)), /"faults\[0\].step" must be an integer from 0 to \d+, received number -2$/],
      [edited((t) => (t.faults[0].action = "explode")), /"faults\[0\].action" must be "fail", "timeout", "cancel" or "delay", received string "explode"$/],
      [edited((t) => (t.faults[0].point = "")), /"faults\[0\].point" must be a fault point's name, received string ""$/],
      [edited((t) => (t.faults[0] = null)), /"faults\[0\]" must be an object \{ step, point, where, action, detail\? \}, received null$/],
      [42, /^replay: expected a ScheduleFailure, its trace, or the trace's JSON \(version 2\), received number 42$/],
      ["null", /^replay: expected a ScheduleFailure, its trace, or the trace's JSON \(version 2\), received null$/],
    ];
    for (const [from, pattern] of cases) {
      let ran = false;
      const error = await replay(() => void (ran = true), from as never).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof FlotillaError && error.code === "E_INVALID_OPTION", `${pattern}: got ${String(error)}`);
      assert.match(error.message, pattern);
      assert.equal(ran, false, "nothing ran");
    }
  });

  it("records the format of its labels, and refuses a trace recorded by a flotilla whose labels differ", async () => {
    const trace = await recorded();
    assert.equal(trace.labelFormat, LABEL_FORMAT);
    const other = { ...trace, labelFormat: LABEL_FORMAT + 1 };
    let ran = false;
    for (const from of [other, JSON.stringify(other)]) {
      const error = await replay(() => void (ran = true), from).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof FlotillaError && error.code === "E_INVALID_OPTION", String(error));
      assert.equal(
        error.message,
        `replay: the trace was recorded by a flotilla whose trace labels differ from this one's (label format ${LABEL_FORMAT + 1}; this flotilla's is ${LABEL_FORMAT}), ` +
          `so its steps cannot be matched to the events of this version. Run the exploration again (explore(test, { seed: 3 }) or FLOTILLA_SEED=3) for a trace this version replays`,
      );
    }
    assert.equal(ran, false, "nothing ran");
  });

  it("checks a trace given in FLOTILLA_REPLAY the same way", async () => {
    const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process!.env;
    const trace = { ...(await recorded()), maxSteps: -1 };
    env.FLOTILLA_REPLAY = JSON.stringify(trace);
    try {
      await assert.rejects(
        explore(body),
        (e: unknown) =>
          e instanceof FlotillaError && e.code === "E_INVALID_OPTION" && /the trace's "maxSteps" must be an integer >= 1, received number -1/.test(e.message),
      );
    } finally {
      delete env.FLOTILLA_REPLAY;
    }
  });
});
