/**
 * Everything user code hands the run — thenables, listeners, cancel reasons, thrown values — may
 * throw or be odd. None of it may escape the dispatch loop, block a cancel or hang a run; an error
 * thrown by a callback the run calls is reported once (as an unhandled rejection), not lost.
 */
import { afterEach, describe, it, mock } from "node:test";
import assert from "node:assert/strict";
import { type CancelledError, Job, isFlotillaError, run, start } from "../src/index.ts";
import { messageOf } from "../src/errors.ts";
import { virtualRuntime } from "../src/testing/index.ts";
import { catchReported, flush, untilAborted } from "./helpers.ts";

afterEach(() => mock.restoreAll());

/** Values whose string form throws or does not exist. */
const unprintable: [string, () => unknown][] = [
  ["Object.create(null)", () => Object.create(null)],
  [
    "an object whose toString throws",
    () => ({
      toString: () => {
        throw new Error("no toString");
      },
    }),
  ],
  [
    "an Error whose message getter throws",
    () => {
      const error = new Error("x");
      Object.defineProperty(error, "message", {
        get: () => {
          throw new Error("no message");
        },
      });
      return error;
    },
  ],
];

describe("hostile values from user code", () => {
  for (const how of ["whose then throws", "whose then getter throws"] as const) {
    it(`a body returning a thenable ${how} fails only its task; the rest runs and the run settles`, async () => {
      const boom = new Error("then exploded");
      const thenable =
        how === "whose then throws"
          ? {
              then: () => {
                throw boom;
              },
            }
          : Object.defineProperty({}, "then", {
              get: () => {
                throw boom;
              },
            });
      const job = new Job("j")
        .task("odd", () => thenable as never)
        .task("sibling", () => "ok")
        .task("after", { dependsOn: ["sibling"] }, () => "after");
      const result = await run(job);
      assert.equal(result.tasks.get("odd").status, "failed");
      assert.equal(result.tasks.get("odd").error, boom);
      assert.equal(result.output("sibling"), "ok");
      assert.equal(result.output("after"), "after");
    });
  }

  for (const path of ["cancel()", "cancelTask()", "a timeout"] as const) {
    it(`an onAbort listener that throws during ${path}: every task still hears the abort, the run settles, the error is reported`, async () => {
      const reported = catchReported();
      const runtime = virtualRuntime();
      const boom = new Error("listener exploded");
      const heard: string[] = [];
      const body = (id: string, throws: boolean) => (ctx: Parameters<typeof untilAborted>[0] & { onAbort: (l: (r: unknown) => void) => () => void }) => {
        ctx.onAbort(() => {
          heard.push(id);
          if (throws) throw boom;
        });
        return untilAborted(ctx);
      };
      const job = new Job("j")
        .task("a", { timeoutMs: path === "a timeout" ? 10 : undefined }, body("a", true) as never)
        .task("b", { timeoutMs: path === "a timeout" ? 10 : undefined }, body("b", false) as never);
      const handle = start(job, { runtime });
      handle.once("task:start", () => {
        if (path === "cancel()") queueMicrotask(() => handle.cancel("stop"));
      });
      if (path === "cancelTask()") {
        handle.on("task:start", (e) => {
          if (e.taskId === "b") queueMicrotask(() => (handle.cancelTask("a"), handle.cancelTask("b")));
        });
      }
      const result = await handle.result;
      assert.deepEqual(heard.sort(), ["a", "b"]);
      const expected = path === "a timeout" ? "failed" : "cancelled";
      assert.equal(result.tasks.get("a").status, expected);
      assert.equal(result.tasks.get("b").status, expected);
      assert.ok(reported.includes(boom), "the listener's error was reported");
      assert.equal(reported.filter((e) => e === boom).length, 1, "once");
    });
  }

  for (const [name, make] of unprintable) {
    it(`cancel(x), cancelTask(id, x), signal.abort(x) and failFast with ${name} cancel and settle`, async () => {
      const runtime = virtualRuntime();
      const job = () => new Job("j").task("a", untilAborted).task("b", untilAborted);
      // cancel(x)
      let handle = start(job(), { runtime });
      assert.doesNotThrow(() => handle.cancel(make()));
      let result = await handle.result;
      assert.equal(result.status, "cancelled");
      assert.match(messageOf(result.error), /cancelled by cancel\(\): \(object that cannot be converted to a string\)/);
      // cancelTask(id, x)
      handle = start(job(), { runtime });
      let cancelled = false;
      assert.doesNotThrow(() => (cancelled = handle.cancelTask("a", make())));
      handle.cancelTask("b");
      result = await handle.result;
      assert.equal(cancelled, true);
      assert.equal(result.tasks.get("a").status, "cancelled");
      // signal.abort(x)
      const controller = new AbortController();
      handle = start(job(), { runtime, signal: controller.signal });
      handle.once("task:start", () => controller.abort(make()));
      result = await handle.result;
      assert.equal(result.status, "cancelled");
      assert.equal((result.error as CancelledError).source, "signal");
      // failFast with a thrown value that cannot be printed
      const thrown = make();
      const failed = await run(new Job("j").task("bad", () => Promise.reject(thrown)).task("slow", untilAborted), { runtime, failFast: true });
      assert.equal(failed.status, "failed");
      assert.equal(failed.tasks.get("bad").error, thrown);
      assert.equal(failed.tasks.get("slow").status, "cancelled");
    });
  }

  it("messageOf never throws", () => {
    for (const [, make] of unprintable) assert.equal(typeof messageOf(make()), "string");
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    assert.equal(typeof messageOf(revoked.proxy), "string");
  });

  it("a listener that throws does not stop the other listeners of its event; its error is reported once", async () => {
    const reported = catchReported();
    const boom = new Error("listener exploded");
    const handle = start(new Job("j").task("a", () => 1).task("b", () => 2));
    const second: string[] = [];
    handle.on("task:succeeded", () => {
      throw boom;
    });
    handle.on("task:succeeded", (e) => second.push(e.taskId));
    handle.once("task:start", () => {
      throw boom;
    });
    const result = await handle.result;
    await flush();
    assert.equal(result.status, "succeeded");
    assert.deepEqual(second, ["a", "b"]);
    assert.equal(reported.filter((e) => e === boom).length, 3, "two task:succeeded, one task:start");
  });

  it("a for await over the handle ends even when a job:end listener throws first", async () => {
    const reported = catchReported();
    const handle = start(new Job("j").task("a", () => 1));
    handle.on("job:end", () => {
      throw new Error("job:end listener exploded");
    });
    const types: string[] = [];
    for await (const event of handle) types.push(event.type);
    assert.equal(types.at(-1), "job:end");
    assert.equal(reported.length, 1);
  });

  it("handle.off with an unknown event name is refused like on()", () => {
    const handle = start(new Job("j").task("a", () => 1));
    assert.throws(
      () => handle.off("task:succeded" as never, () => {}),
      (e: unknown) => isFlotillaError(e, "E_INVALID_OPTION") && /did you mean "task:succeeded"/.test((e as Error).message),
    );
  });

  it("a listener removed with off() no longer hears events (listeners are wrapped)", async () => {
    const heard: string[] = [];
    const listener = (e: { taskId: string }) => heard.push(e.taskId);
    const handle = start(new Job("j").task("a", () => 1));
    handle.on("task:succeeded", listener);
    handle.off("task:succeeded", listener);
    await handle.result;
    assert.deepEqual(heard, []);
  });
});
