/**
 * flotilla/provider-kit: the parts every provider adapter shares. Driven by explicit aborts and by
 * timers the test fires by hand: nothing here sleeps or reads the clock.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError, NodeLostError, type ProviderNode } from "../src/index.ts";
import {
  AbortGrace,
  Outcome,
  StartedNodes,
  attemptName,
  foreignNodeError,
  nodeGoneError,
  nodeLostError,
  nodeStoppedError,
  wait,
  type GraceTimers,
} from "../src/provider-kit/index.ts";
import { virtualRuntime } from "../src/testing/index.ts";

/** An attempt's `onAbort` the test aborts by hand; counts the listeners still registered. */
function abortable() {
  const listeners = new Set<(reason: unknown) => void>();
  let aborted = false;
  let reason: unknown;
  return {
    ctx: {
      onAbort(listener: (reason: unknown) => void): () => void {
        if (aborted) {
          listener(reason);
          return () => {};
        }
        const once = (r: unknown) => listener(r);
        listeners.add(once);
        return () => listeners.delete(once);
      },
    },
    abort(why: unknown): void {
      aborted = true;
      reason = why;
      for (const listener of [...listeners]) listener(why);
    },
    get listening(): number {
      return listeners.size;
    },
  };
}

/** Timers that fire only when the test says so. */
function manualTimers() {
  const pending = new Map<number, { ms: number; callback: () => void }>();
  let next = 0;
  const timers: GraceTimers = {
    setTimer: (ms, callback) => {
      pending.set(++next, { ms, callback });
      return next;
    },
    clearTimer: (handle) => void pending.delete(handle as number),
  };
  return {
    timers,
    /** The delays of the timers armed now. */
    armed: (): number[] => [...pending.values()].map((t) => t.ms),
    /** Fires every timer armed now (as if their time had come). */
    fire(): void {
      const due = [...pending];
      pending.clear();
      for (const [, t] of due) t.callback();
    },
  };
}

function grace(graceMs = 500) {
  const clock = manualTimers();
  const calls: string[] = [];
  const attempt = abortable();
  const g = new AbortGrace({
    graceMs,
    stop: (reason) => calls.push(`stop ${String(reason)}`),
    escalate: () => calls.push("escalate"),
    timers: clock.timers,
  });
  return { g, clock, calls, attempt };
}

describe("Outcome", () => {
  it("settles with the first resolve or reject and ignores later calls", async () => {
    const outcome = new Outcome<string>();
    assert.equal(outcome.settled, false);
    assert.equal(outcome.resolve("first"), true);
    assert.equal(outcome.resolve("second"), false);
    assert.equal(outcome.reject(new Error("late")), false);
    assert.equal(outcome.settled, true);
    assert.equal(await outcome.promise, "first");
  });

  it("a rejection wins the same way, and a late resolve changes nothing", async () => {
    const outcome = new Outcome<string>();
    const error = new Error("failed");
    assert.equal(outcome.reject(error), true);
    assert.equal(outcome.resolve("late"), false);
    await assert.rejects(outcome.promise, (e) => e === error);
  });

  it("runs what onSettle registered once, when it settles, and at once when registered after", () => {
    const outcome = new Outcome();
    const released: string[] = [];
    outcome.onSettle(() => released.push("listener"));
    outcome.onSettle(() => released.push("timer"));
    assert.equal(released.length, 0);
    outcome.resolve(1);
    outcome.reject(new Error("late"));
    assert.deepEqual(released, ["listener", "timer"]);
    outcome.onSettle(() => released.push("after"));
    assert.deepEqual(released, ["listener", "timer", "after"]);
  });

  it("a release that throws does not keep the others from running, and its error reaches the settling call", async () => {
    const outcome = new Outcome<number>();
    const released: string[] = [];
    outcome.onSettle(() => {
      throw new Error("release failed");
    });
    outcome.onSettle(() => released.push("second"));
    assert.throws(() => outcome.resolve(7), /release failed/);
    assert.deepEqual(released, ["second"]);
    assert.equal(await outcome.promise, 7, "settled before the releases ran");
  });
});

describe("AbortGrace", () => {
  it("an abort asks the work to stop with the reason, then escalates when the grace runs out", () => {
    const { g, clock, calls, attempt } = grace(250);
    g.watch(attempt.ctx);
    assert.deepEqual([calls, clock.armed()], [[], []], "nothing before the abort");
    attempt.abort("cancelled");
    assert.deepEqual(calls, ["stop cancelled"]);
    assert.deepEqual(clock.armed(), [250], "one timer, of graceMs");
    assert.equal(g.aborted, true);
    assert.equal(g.reason, "cancelled");
    assert.equal(g.stopping, true);
    clock.fire();
    assert.deepEqual(calls, ["stop cancelled", "escalate"]);
    assert.deepEqual(clock.armed(), []);
  });

  it("release drops the timer and the listener: a work that ended in time is never forced", () => {
    const { g, clock, calls, attempt } = grace();
    g.watch(attempt.ctx);
    assert.equal(attempt.listening, 1);
    attempt.abort("cancelled");
    g.release();
    assert.deepEqual(clock.armed(), [], "the timer is cleared");
    assert.equal(attempt.listening, 0, "the listener is removed");
    assert.equal(g.released, true);
    clock.fire();
    g.release();
    assert.deepEqual(calls, ["stop cancelled"]);
  });

  it("released before any abort, it hears none", () => {
    const { g, clock, calls, attempt } = grace();
    g.watch(attempt.ctx);
    g.release();
    assert.equal(attempt.listening, 0);
    attempt.abort("too late");
    assert.deepEqual([calls, clock.armed(), g.aborted], [[], [], false]);
    g.stopNow("cap");
    g.restart();
    assert.deepEqual([calls, clock.armed()], [[], []], "stopNow and restart do nothing once released");
  });

  it("an attempt aborted already is heard during watch; a stop that settles the attempt at once leaves nothing behind", () => {
    const clock = manualTimers();
    const attempt = abortable();
    attempt.abort("before");
    const seen: unknown[] = [];
    const g: AbortGrace = new AbortGrace({
      graceMs: 500,
      stop: (reason) => {
        seen.push(reason);
        g.release(); // the work had not started: the attempt settles now
      },
      escalate: () => assert.fail("nothing to force"),
      timers: clock.timers,
    });
    assert.equal(g.watch(attempt.ctx), g);
    assert.deepEqual(seen, ["before"]);
    assert.deepEqual(clock.armed(), []);
    assert.equal(attempt.listening, 0);
  });

  it("a listener removed while the abort is heard is removed once watch returns", () => {
    const clock = manualTimers();
    let removed = 0;
    const ctx = {
      onAbort(listener: (reason: unknown) => void) {
        listener("at once");
        return () => void removed++;
      },
    };
    const g: AbortGrace = new AbortGrace({ graceMs: 10, stop: () => g.release(), escalate: () => {}, timers: clock.timers });
    g.watch(ctx);
    assert.equal(removed, 1);
  });

  it("escalate may restart the grace: a full grace period again, then escalate again", () => {
    const clock = manualTimers();
    const attempt = abortable();
    const calls: string[] = [];
    let renewals = 0;
    const g: AbortGrace = new AbortGrace({
      graceMs: 100,
      stop: () => calls.push("stop"),
      escalate: () => {
        calls.push("escalate");
        if (renewals++ < 2) g.restart();
      },
      timers: clock.timers,
    });
    g.watch(attempt.ctx);
    attempt.abort("x");
    clock.fire();
    assert.deepEqual(clock.armed(), [100], "renewed in full");
    clock.fire();
    clock.fire();
    assert.deepEqual(clock.armed(), []);
    assert.deepEqual(calls, ["stop", "escalate", "escalate", "escalate"]);
  });

  it("restart replaces the running timer: still one timer, of graceMs", () => {
    const { g, clock, calls, attempt } = grace(300);
    g.watch(attempt.ctx);
    g.restart();
    assert.deepEqual(clock.armed(), [], "nothing to restart before a stop");
    attempt.abort("x");
    g.restart();
    assert.deepEqual(clock.armed(), [300]);
    clock.fire();
    assert.deepEqual(calls, ["stop x", "escalate"]);
  });

  it("stopNow stops the work for the provider's own reason; a later abort is recorded but asks for no second stop", () => {
    const { g, clock, calls, attempt } = grace(50);
    g.watch(attempt.ctx);
    g.stopNow("output cap");
    g.stopNow("again");
    assert.deepEqual(calls, ["stop output cap"]);
    assert.equal(g.aborted, false);
    attempt.abort("cancelled");
    assert.deepEqual(calls, ["stop output cap"]);
    assert.deepEqual([g.aborted, g.reason], [true, "cancelled"]);
    assert.deepEqual(clock.armed(), [50], "still the one grace");
    clock.fire();
    assert.deepEqual(calls, ["stop output cap", "escalate"]);
  });

  it("a stop that throws still has its work forced when the grace runs out", () => {
    const clock = manualTimers();
    const attempt = abortable();
    let escalated = false;
    const g = new AbortGrace({
      graceMs: 5,
      stop: () => {
        throw new Error("kill failed");
      },
      escalate: () => (escalated = true),
      timers: clock.timers,
    }).watch(attempt.ctx);
    assert.throws(() => attempt.abort("x"), /kill failed/);
    assert.equal(g.stopping, true);
    clock.fire();
    assert.equal(escalated, true);
  });
});

describe("StartedNodes", () => {
  const ctx = { taskId: "load", attempt: 2 };
  const node = (id: string): ProviderNode => ({ id, slots: 1 });

  it("runs an attempt on a live node of its own and hands back its result as a promise", async () => {
    const nodes = new StartedNodes<ProviderNode>("my-cloud");
    const vm = nodes.add(node("vm-1"));
    assert.equal(await nodes.run(vm, ctx, (n) => `ran on ${n.id}`), "ran on vm-1");
    assert.equal(nodes.stateOf(vm), "live");
    assert.equal(nodes.size, 1);
  });

  it("refuses a node it did not start with E_INVALID_OPTION, naming the provider, the task and the node", async () => {
    const nodes = new StartedNodes<ProviderNode>("my-cloud");
    const refused = (n: unknown) =>
      assert.rejects(
        nodes.run(n as ProviderNode, ctx, () => assert.fail("must not run")),
        (e) =>
          e instanceof FlotillaError &&
          e.code === "E_INVALID_OPTION" &&
          /^task "load": provider "my-cloud" was asked to run on node /.test(e.message) &&
          e.message.endsWith(", which it did not start"),
      );
    await refused(node("stranger"));
    await refused(null);
    const hostile = Object.defineProperty({}, "id", {
      get() {
        throw new Error("no id");
      },
    });
    await refused(hostile);
    assert.match(foreignNodeError("p", node("x"), "t").message, /^task "t": provider "p" was asked to run on node string "x", which it did not start$/);
  });

  it("refuses a lost node, then a stopped one, with NodeLostError saying which", async () => {
    const nodes = new StartedNodes<ProviderNode>("my-cloud");
    const vm = nodes.add(node("vm-1"));
    nodes.markLost(vm);
    await assert.rejects(
      nodes.run(vm, ctx, () => 1),
      (e) => e instanceof NodeLostError && e.nodeId === "vm-1" && e.message === 'node "vm-1" is lost; task "load" attempt 2 cannot run on it',
    );
    assert.equal(nodes.markStopped(vm), vm, "a lost node is still to be stopped");
    await assert.rejects(
      nodes.run(vm, ctx, () => 1),
      { message: 'node "vm-1" is stopped; task "load" attempt 2 cannot run on it' },
    );
    nodes.markLost(vm);
    assert.equal(nodes.stateOf(vm), "stopped", "a stopped node stays stopped");
  });

  it("markStopped hands a node over to be stopped once; a second stop or a foreign node gets undefined", () => {
    const nodes = new StartedNodes<ProviderNode>("my-cloud");
    const a = nodes.add(node("a"));
    nodes.add(node("b"));
    assert.equal(nodes.size, 2);
    assert.equal(nodes.markStopped(a), a);
    assert.equal(nodes.markStopped(a), undefined);
    assert.equal(nodes.markStopped(node("a")), undefined);
    assert.equal(nodes.size, 1);
  });

  it("an attempt that throws becomes a rejection, never a throw", async () => {
    const nodes = new StartedNodes<ProviderNode>("my-cloud");
    const vm = nodes.add(node("vm-1"));
    const error = new Error("bad spec");
    const result = nodes.run(vm, ctx, () => {
      throw error;
    });
    await assert.rejects(result, (e) => e === error);
  });
});

describe("node errors", () => {
  const ctx = { taskId: "load", attempt: 2 };

  it("word every adapter's node events alike", () => {
    assert.equal(attemptName(ctx), 'task "load" attempt 2');
    const cause = new Error("exit 3");
    const lost = nodeLostError("vm-1", ctx, "its VM was preempted", cause);
    assert.ok(lost instanceof NodeLostError);
    assert.equal(lost.code, "E_NODE_LOST");
    assert.equal(lost.nodeId, "vm-1");
    assert.equal(lost.message, 'node "vm-1" was lost running task "load" attempt 2: its VM was preempted');
    assert.equal(lost.cause, cause);
    const idle = nodeLostError("vm-1", undefined, "its VM was preempted");
    assert.equal(idle.message, 'node "vm-1" was lost while idle: its VM was preempted');
    assert.equal("cause" in idle, false, "no cause given, none set");
    assert.equal(
      nodeStoppedError("vm-1", ctx, 'command ["make"]', "it was killed").message,
      'task "load" attempt 2: node "vm-1" was stopped while command ["make"] ran; it was killed',
    );
    assert.equal(nodeGoneError("vm-1", "lost", ctx).message, 'node "vm-1" is lost; task "load" attempt 2 cannot run on it');
  });
});

describe("wait(runtime, ms, signal)", () => {
  it("resolves after ms on the runtime's clock, and leaves no timer behind", async () => {
    const runtime = virtualRuntime();
    const start = runtime.now();
    await wait(runtime, 250, new AbortController().signal);
    assert.equal(runtime.now() - start, 250);
    assert.equal(runtime.pendingTimers, 0);
  });

  it("rejects with the signal's reason when it aborts first (at once if it already has), and clears its timer", async () => {
    const runtime = virtualRuntime();
    const controller = new AbortController();
    const waiting = wait(runtime, 1_000, controller.signal);
    controller.abort("stop");
    await assert.rejects(waiting, (reason) => reason === "stop");
    assert.equal(runtime.pendingTimers, 0);
    await assert.rejects(wait(runtime, 1_000, controller.signal), (reason) => reason === "stop");
    assert.equal(runtime.pendingTimers, 0, "an aborted signal sets no timer");
  });
});
