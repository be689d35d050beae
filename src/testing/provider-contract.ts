/**
 * The checks every compute provider must pass, for any test framework: `providerContract` returns
 * named async checks, and the caller registers each as a test. flotilla runs them against its own
 * providers (in-process, worker threads, child processes); authors of custom providers run them too.
 *
 * The checks run real jobs through `run` with the real runtime. A provider runs its own kind of body,
 * so the caller says how to make the few bodies the checks need.
 */
import { Job } from "../job.ts";
import { FlotillaError, NodeLostError, describe, isFlotillaError, messageOf } from "../errors.ts";
import { checkKnownKeys, invalidOption } from "../validation.ts";
import { bodyKind, checkProvider, type ComputeProvider, type ProviderNode } from "../provider.ts";
import { start, run } from "../run.ts";
import type { RunResult } from "../result.ts";

/** Bodies of the provider's own kind, one for each behaviour the checks need. */
export interface ContractBodies<Body> {
  /** Succeeds with `value` (a JSON value: strings, numbers, booleans, null, arrays, plain objects). */
  returns(value: unknown): Body;
  /** Fails with an error whose message contains `message`. */
  fails(message: string): Body;
  /** Succeeds with its dependencies' outputs (`ctx.deps`) as they reached it. */
  echoesDeps(): Body;
  /** Runs until its attempt's signal aborts (cancel, timeout), then stops. */
  waitsForAbort(): Body;
  /** Kills the node it runs on, every time (a crashing worker). Omit for providers whose nodes cannot crash. */
  crashesNode?(): Body;
}

export interface ProviderContractOptions<Body> {
  /** Makes a fresh provider; called once per check. */
  provider(): ComputeProvider<Body>;
  bodies: ContractBodies<Body>;
}

/** One check: register it with your framework, e.g. `it(check.name, check.run)`. */
export interface ContractCheck {
  readonly name: string;
  run(): Promise<void>;
}

/**
 * The provider contract as a list of checks.
 *
 * @example
 * import { providerContract } from "flotilla/testing";
 * describe("my provider", () => {
 *   for (const check of providerContract({ provider: () => myProvider(), bodies: myBodies })) it(check.name, check.run);
 * });
 */
export function providerContract<Body>(options: ProviderContractOptions<Body>): ContractCheck[] {
  checkOptions(options);
  const { bodies } = options;
  const fresh = () => {
    const provider = options.provider();
    checkProvider("providerContract: the provider made by options.provider()", provider);
    return watched(provider);
  };
  const checks: ContractCheck[] = [
    check("is a well-formed provider that runs its own bodies", async () => {
      const provider = options.provider();
      checkProvider("the provider", provider);
      const kind = bodyKind(bodies.returns(1) as never);
      expect(
        (provider.kinds ?? ["function"]).includes(kind),
        `its kinds ${JSON.stringify(provider.kinds ?? ["function"])} include "${kind}", the kind of its bodies`,
      );
    }),
    check("runs a body and returns its output", async () => {
      const value = { text: "ünïcode ✓", n: 42.5, list: [1, null, true], nested: { empty: {} } };
      const p = fresh();
      const result = await run(new Job("contract").task("a", bodies.returns(value) as never), { provider: p.provider });
      succeeded(result);
      same(result.output("a"), value, "the output");
      p.allStopped();
    }),
    check("passes the outputs of dependencies to the body", async () => {
      const p = fresh();
      const job = new Job<Record<string, unknown>>("contract")
        .task("a", bodies.returns("A") as never)
        .task("b", bodies.returns({ x: [1, 2] }) as never)
        .task("c", { dependsOn: ["a", "b"] }, bodies.echoesDeps() as never);
      const result = await run(job, { provider: p.provider });
      succeeded(result);
      same(result.output("c"), { a: "A", b: { x: [1, 2] } }, "the dependencies' outputs");
      p.allStopped();
    }),
    check("fails the task with the body's error, and only that task", async () => {
      const p = fresh();
      const job = new Job<Record<string, unknown>>("contract").task("bad", bodies.fails("contract-boom") as never).task("good", bodies.returns(1) as never);
      const result = await run(job, { provider: p.provider });
      expect(result.status === "failed", `the run failed (status ${result.status})`);
      const bad = result.tasks.get("bad");
      expect(bad.status === "failed", `task "bad" failed (status ${bad.status})`);
      expect(messageOf(bad.error).includes("contract-boom"), `the error says what the body threw (got: ${messageOf(bad.error)})`);
      same(result.output("good"), 1, "the other task's output");
      p.allStopped();
    }),
    check("runs many tasks at once, each output its own", async () => {
      const p = fresh();
      let job = new Job<Record<string, unknown>>("contract");
      for (let i = 0; i < 40; i++) job = job.task(`t${i}`, bodies.returns(i) as never);
      const result = await run(job, { provider: p.provider });
      succeeded(result);
      for (let i = 0; i < 40; i++) same(result.output(`t${i}`), i, `the output of t${i}`);
      p.allStopped();
    }),
    check("stops a running body when its task is cancelled, within the grace period", async () => {
      const p = fresh();
      const handle = start(
        new Job<Record<string, unknown>>("contract").task("wait", bodies.waitsForAbort() as never).task("other", bodies.returns(1) as never),
        {
          provider: p.provider,
        },
      );
      let abandoned = false;
      handle.on("task:abandoned", () => (abandoned = true));
      // Once the provider has the attempt (a task:start listener would cancel before the body runs).
      p.onRun = (taskId) => taskId === "wait" && handle.cancelTask("wait", "contract cancel");
      const result = await handle.result;
      expect(result.tasks.get("wait").status === "cancelled", `task "wait" was cancelled (status ${result.tasks.get("wait").status})`);
      expect(!abandoned, "the body stopped when its signal aborted (it was abandoned after the grace period instead)");
      same(result.output("other"), 1, "the other task's output");
      p.allStopped();
    }),
    check("stops a running body when its attempt times out", async () => {
      const p = fresh();
      const handle = start(new Job("contract").task("slow", { timeoutMs: 20 }, bodies.waitsForAbort() as never), { provider: p.provider });
      let abandoned = false;
      handle.on("task:abandoned", () => (abandoned = true));
      const result = await handle.result;
      const slow = result.tasks.get("slow");
      expect(
        slow.status === "failed" && isFlotillaError(slow.error) && slow.error.code === "E_TIMEOUT",
        `task "slow" failed with E_TIMEOUT (got ${slow.status}: ${messageOf(slow.error)})`,
      );
      expect(!abandoned, "the body stopped when its signal aborted (it was abandoned after the grace period instead)");
      p.allStopped();
    }),
    check("stops every node when a run is cancelled", async () => {
      const p = fresh();
      let job = new Job<Record<string, unknown>>("contract");
      for (let i = 0; i < 4; i++) job = job.task(`w${i}`, bodies.waitsForAbort() as never);
      const handle = start(job, { provider: p.provider });
      p.onRun = () => handle.cancel("contract cancel");
      const result = await handle.result;
      expect(result.status === "cancelled", `the run was cancelled (status ${result.status})`);
      p.allStopped();
    }),
    check("serves a second run after the first ended", async () => {
      const p = fresh();
      for (const round of [1, 2]) {
        const result = await run(new Job("contract").task("a", bodies.returns(round) as never), { provider: p.provider });
        succeeded(result);
        same(result.output("a"), round, `round ${round}'s output`);
      }
      p.allStopped();
    }),
  ];
  if (bodies.crashesNode !== undefined) {
    const crashes = bodies.crashesNode.bind(bodies);
    checks.push(
      check("a crashing node is lost: its attempt is requeued a bounded number of times, other tasks are unaffected", async () => {
        const p = fresh();
        const handle = start(new Job<Record<string, unknown>>("contract").task("poison", crashes() as never).task("fine", bodies.returns("ok") as never), {
          provider: p.provider,
          maxNodeLosses: 2,
        });
        let requeued = 0;
        handle.on("task:requeued", (e) => (requeued += e.taskId === "poison" ? 1 : 0));
        const result = await handle.result;
        const poison = result.tasks.get("poison");
        expect(
          poison.status === "failed" && poison.error instanceof NodeLostError,
          `task "poison" failed with E_NODE_LOST (got ${poison.status}: ${messageOf(poison.error)})`,
        );
        // Two losses charged to it (maxNodeLosses), then E_NODE_LOST; one more, free, when its first
        // node also ran "fine" (a loss on a shared node is charged to nobody; the task then runs alone).
        expect(
          requeued === poison.attempts - 1 && (poison.attempts === 3 || poison.attempts === 4),
          `it was requeued twice (three times if it first shared its node), and failed on the next loss (got ${requeued} requeues, ${poison.attempts} attempts)`,
        );
        same(result.output("fine"), "ok", "the other task's output");
        p.allStopped();
      }),
    );
  }
  return checks;
}

const BODY_MAKERS = ["returns", "fails", "echoesDeps", "waitsForAbort", "crashesNode"];
const SHAPE = "{ provider: () => ComputeProvider, bodies: { returns, fails, echoesDeps, waitsForAbort, crashesNode? } }";

/** Checks the options once, up front, so a wrong argument is named instead of failing as a TypeError inside a check. */
function checkOptions(options: unknown): asserts options is ProviderContractOptions<unknown> {
  const looksLikeProvider = (value: unknown) =>
    typeof value === "object" && value !== null && typeof (value as { startNode?: unknown }).startNode === "function";
  if (typeof options !== "object" || options === null || looksLikeProvider(options)) {
    const hint = looksLikeProvider(options)
      ? "a provider object; pass { provider: () => yourProvider(), bodies }"
      : typeof options === "function"
        ? "a function; if it makes providers, pass it as { provider: thatFunction, bodies }"
        : describe(options);
    throw new FlotillaError("E_INVALID_OPTION", `providerContract(options): options must be an object ${SHAPE}, received ${hint}`);
  }
  checkKnownKeys("providerContract", options, ["provider", "bodies"]);
  const { provider, bodies } = options as { provider?: unknown; bodies?: unknown };
  if (typeof provider !== "function") {
    const received = looksLikeProvider(provider) ? "a provider object (each check needs a fresh one: provider: () => yourProvider())" : describe(provider);
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `providerContract: option "provider" must be a function that makes a fresh provider, () => ComputeProvider, received ${received}`,
    );
  }
  if (typeof bodies !== "object" || bodies === null) {
    throw invalidOption(
      "providerContract",
      "bodies",
      "an object of functions that make bodies of the provider's kind { returns, fails, echoesDeps, waitsForAbort, crashesNode? }",
      bodies,
    );
  }
  checkKnownKeys('providerContract: option "bodies"', bodies, BODY_MAKERS, "body maker");
  const b = bodies as Record<string, unknown>;
  const missing = BODY_MAKERS.filter((m) => m !== "crashesNode" && typeof b[m] !== "function");
  if (missing.length > 0) {
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `providerContract: option "bodies" lacks ${missing.join(", ")} (functions that make bodies of the provider's kind)`,
    );
  }
  if (b.crashesNode !== undefined && typeof b.crashesNode !== "function") {
    throw invalidOption("providerContract", "bodies.crashesNode", "a function when given (omit it for providers whose nodes cannot crash)", b.crashesNode);
  }
}

function check(name: string, body: () => Promise<void>): ContractCheck {
  return { name: `provider contract: ${name}`, run: body };
}

/** The provider with every node start and stop recorded, to check that each started node was stopped once. */
function watched<Body>(provider: ComputeProvider<Body>) {
  const live = new Map<ProviderNode, number>();
  const hooks = { onRun: (_taskId: string): unknown => undefined };
  const wrapped: ComputeProvider<Body> = {
    name: provider.name,
    ...(provider.kinds === undefined ? {} : { kinds: provider.kinds }),
    ...(provider.maxNodes === undefined ? {} : { maxNodes: provider.maxNodes }),
    startNode: async (report) => {
      const node = await provider.startNode(report);
      expect(
        typeof node?.id === "string" && (node.slots === Infinity || (Number.isInteger(node.slots) && node.slots >= 1)),
        `startNode returned { id: string, slots >= 1 } (got ${JSON.stringify(node)})`,
      );
      live.set(node, (live.get(node) ?? 0) + 1);
      return node;
    },
    stopNode: async (node) => {
      const count = live.get(node);
      expect(count !== undefined && count > 0, `stopNode was called for a node that is not running: "${node.id}"`);
      if (count === 1) live.delete(node);
      else live.set(node, count! - 1);
      await provider.stopNode(node);
    },
    run: (node, body, ctx) => {
      const result = provider.run(node, body, ctx);
      hooks.onRun(ctx.taskId);
      return result;
    },
  };
  return {
    provider: wrapped,
    /** Called right after the provider took an attempt. */
    set onRun(hook: (taskId: string) => unknown) {
      hooks.onRun = hook;
    },
    allStopped: () =>
      expect(live.size === 0, `every started node was stopped by the end of the run (still running: ${[...live.keys()].map((n) => n.id).join(", ")})`),
  };
}

function succeeded(result: RunResult<any>): void {
  if (result.status === "succeeded") return;
  throw new Error(`provider contract: expected the run to succeed, it ${result.status}: ${messageOf(result.error)}`, { cause: result.error });
}

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(`provider contract: expected ${what}`);
}

function same(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`provider contract: ${what} should be ${e}, got ${a}`);
}
