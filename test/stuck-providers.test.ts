/**
 * A provider that never answers (a hung cloud API) cannot hold a run forever: a start in flight is
 * aborted through `report.signal` when the run no longer needs it and waited for at most
 * `stopTimeoutMs`, as is each `stopNode`; the run then settles and reports `provider:error`. A node
 * that arrives after the run stopped waiting is still stopped.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Job, isFlotillaError, start, type ComputeProvider, type NodeReport, type ProviderNode, type RunEvents } from "../src/index.ts";
import { virtualRuntime } from "../src/testing/index.ts";
import { deferred } from "./helpers.ts";

describe("providers that never answer", () => {
  it("cancel() ends a run whose node start never settles; the start is told through its signal", async () => {
    const runtime = virtualRuntime();
    let told: unknown = "not told";
    let arrive!: (node: ProviderNode) => void;
    const stopped = deferred<string>();
    const provider: ComputeProvider = {
      name: "hung-cloud",
      startNode: (report: NodeReport) => {
        report.signal?.addEventListener("abort", () => (told = report.signal!.reason));
        return new Promise((resolve) => (arrive = resolve));
      },
      stopNode: (node) => stopped.resolve(node.id),
      run: (_node, body, ctx) => body(ctx),
    };
    const handle = start(
      new Job("j").task("a", () => 1),
      { runtime, provider, stopTimeoutMs: 5_000 },
    );
    const errors: RunEvents["provider:error"][] = [];
    handle.on("provider:error", (e) => errors.push(e));
    handle.once("job:start", () => queueMicrotask(() => handle.cancel("give up")));
    const result = await handle.result;
    assert.equal(result.status, "cancelled");
    assert.ok(isFlotillaError(told, "E_CANCELLED"), "the start's signal was aborted");
    assert.equal(result.finishedAt - result.startedAt, 5_000, "waited stopTimeoutMs for the start, on the run's clock");
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.operation, "startNode");
    assert.ok(isFlotillaError(errors[0]!.error, "E_TIMEOUT"));
    assert.match((errors[0]!.error as Error).message, /provider "hung-cloud" did not finish starting a node within 5000 ms/);
    // The node arrives after the run stopped waiting: it is stopped.
    arrive({ id: "late", slots: 1 });
    assert.equal(await stopped.promise, "late");
  });

  it("a start that honours its signal ends the run at once", async () => {
    const runtime = virtualRuntime();
    const provider: ComputeProvider = {
      name: "polite-cloud",
      startNode: (report: NodeReport) => new Promise((_, reject) => report.signal!.addEventListener("abort", () => reject(report.signal!.reason))),
      stopNode: () => {},
      run: (_node, body, ctx) => body(ctx),
    };
    const handle = start(
      new Job("j").task("a", () => 1),
      { runtime, provider },
    );
    const errors: unknown[] = [];
    handle.on("provider:error", (e) => errors.push(e));
    handle.once("job:start", () => queueMicrotask(() => handle.cancel()));
    const result = await handle.result;
    assert.equal(result.status, "cancelled");
    assert.equal(result.finishedAt, result.startedAt, "no wait");
    assert.deepEqual(errors, []);
  });

  it("a stopNode that never settles delays the end of a finished run by stopTimeoutMs at most, and is reported", async () => {
    const runtime = virtualRuntime();
    const provider: ComputeProvider = {
      name: "sticky",
      startNode: () => ({ id: "n1", slots: 1 }),
      stopNode: () => new Promise(() => {}),
      run: (_node, body, ctx) => body(ctx),
    };
    const handle = start(
      new Job("j").task("a", () => 1),
      { runtime, provider, stopTimeoutMs: 2_000 },
    );
    const errors: RunEvents["provider:error"][] = [];
    handle.on("provider:error", (e) => errors.push(e));
    const result = await handle.result;
    assert.equal(result.status, "succeeded");
    assert.equal(result.finishedAt - result.startedAt, 2_000);
    assert.deepEqual(
      errors.map((e) => [e.operation, e.nodeId, isFlotillaError(e.error, "E_TIMEOUT")]),
      [["stopNode", "n1", true]],
    );
  });

  it("a stopNode that throws is reported, not swallowed", async () => {
    const boom = new Error("cannot stop");
    const provider: ComputeProvider = {
      name: "broken-stop",
      startNode: () => ({ id: "n1", slots: 1 }),
      stopNode: () => {
        throw boom;
      },
      run: (_node, body, ctx) => body(ctx),
    };
    const handle = start(
      new Job("j").task("a", () => 1),
      { provider },
    );
    const errors: unknown[] = [];
    handle.on("provider:error", (e) => errors.push(e.error));
    assert.equal((await handle.result).status, "succeeded");
    assert.deepEqual(errors, [boom]);
  });
});

describe("providers whose values throw", () => {
  const odd: [string, () => unknown][] = [
    [
      "a start whose thenable has a throwing then getter",
      () =>
        Object.defineProperty({}, "then", {
          get: () => {
            throw new Error("then getter exploded");
          },
        }),
    ],
    [
      "a node whose id getter throws",
      () =>
        Object.defineProperty({ slots: 1 }, "id", {
          get: () => {
            throw new Error("id getter exploded");
          },
        }),
    ],
  ];
  for (const [name, make] of odd) {
    it(`${name}: the start fails (retried, then the pool's tasks fail) and the run settles`, async () => {
      const runtime = virtualRuntime();
      const provider: ComputeProvider = { name: "odd", startNode: () => make() as never, stopNode: () => {}, run: (_node, body, ctx) => body(ctx) };
      const result = await start(
        new Job("j").task("a", () => 1),
        { runtime, provider },
      ).result;
      assert.equal(result.status, "failed");
      assert.ok(isFlotillaError(result.tasks.get("a").error, "E_NODE_LOST"));
      assert.match((result.tasks.get("a").error as Error).message, /could not start a node: .*exploded/);
    });
  }
});
