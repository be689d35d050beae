import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError, NodeLostError, inProcess, type ComputeProvider, type TaskBody, type TaskContext } from "../src/index.ts";
import { providerContract, type ContractBodies } from "../src/testing/index.ts";
import { untilAborted } from "./helpers.ts";

/** Bodies for providers of in-process functions. */
const functionBodies: ContractBodies<TaskBody> = {
  returns: (value) => () => value,
  fails: (message) => () => {
    throw new Error(message);
  },
  echoesDeps:
    () =>
    ({ deps }) =>
      deps,
  waitsForAbort: () => untilAborted,
};

/** A provider of two-slot nodes, up to three, whose bodies may crash the node they run on. */
const CRASH = Symbol("crash");
function crashableProvider(overrides: Partial<ComputeProvider> = {}): ComputeProvider {
  let next = 0;
  return {
    name: "crashable",
    maxNodes: 3,
    startNode: async () => ({ id: `n${++next}`, slots: 2 }),
    stopNode: () => {},
    run: async (node, body, ctx: TaskContext) => {
      const output = await body(ctx);
      if (output === CRASH) throw new NodeLostError(node.id, `node "${node.id}" crashed`);
      return output;
    },
    ...overrides,
  };
}

describe("provider contract: in-process", () => {
  for (const check of providerContract({ provider: inProcess, bodies: functionBodies })) it(check.name, check.run);
});

describe("provider contract: a custom provider with several nodes that can crash", () => {
  const bodies = { ...functionBodies, crashesNode: () => () => CRASH };
  for (const check of providerContract({ provider: () => crashableProvider(), bodies })) it(check.name, check.run);
});

describe("provider contract: catches broken providers", () => {
  const checkNamed = (provider: () => ComputeProvider, bodies: ContractBodies<TaskBody>, part: string) => {
    const found = providerContract({ provider, bodies }).find((c) => c.name.includes(part));
    assert.ok(found, part);
    return found.run();
  };

  it("a provider that ignores the signal is caught by the cancel check", async () => {
    const deaf = { ...functionBodies, waitsForAbort: () => () => new Promise<void>(() => {}) };
    await assert.rejects(checkNamed(inProcess, deaf, "cancelled"), /the body stopped when its signal aborted/);
  });

  it("a provider that returns the wrong output is caught", async () => {
    const lossy = () => crashableProvider({ run: async () => "always this" });
    await assert.rejects(checkNamed(lossy, functionBodies, "returns its output"), /the output should be \{"text"/);
  });

  it("a provider whose node cannot take the body's kind is caught", async () => {
    const commandsOnly = () => ({ ...inProcess(), kinds: ["command"] });
    await assert.rejects(checkNamed(commandsOnly, functionBodies, "well-formed"), /its kinds \["command"\] include "function"/);
  });

  it("a provider that hands out a node with no slots is caught", async () => {
    const noSlots = () => crashableProvider({ startNode: async () => ({ id: "n", slots: 0 }) });
    await assert.rejects(checkNamed(noSlots, functionBodies, "returns its output"), /startNode returned \{ id: string, slots >= 1 \}/);
  });
});

describe("provider contract: refuses what is not its options, naming what was wrong", () => {
  const refused = (options: unknown, pattern: RegExp) =>
    assert.throws(
      () => providerContract(options as never),
      (e: unknown) => e instanceof FlotillaError && e.code === "E_INVALID_OPTION" && pattern.test(e.message),
    );

  it("no options, or something else than an options object", () => {
    refused(
      undefined,
      /^providerContract\(options\): options must be an object \{ provider: \(\) => ComputeProvider, bodies: \{ returns, fails, echoesDeps, waitsForAbort, crashesNode\? \} \}, received undefined$/,
    );
    refused(null, /options must be an object .*, received null$/);
    refused(42, /options must be an object .*, received number 42$/);
    refused(inProcess(), /received a provider object; pass \{ provider: \(\) => yourProvider\(\), bodies \}$/);
    refused(inProcess, /received a function; if it makes providers, pass it as \{ provider: thatFunction, bodies \}$/);
  });

  it("a provider that is not a factory, bodies that are missing or misspelt, an unknown option", () => {
    refused({ bodies: functionBodies }, /option "provider" must be a function that makes a fresh provider, \(\) => ComputeProvider, received undefined$/);
    refused({ provider: inProcess(), bodies: functionBodies }, /option "provider" must be .*, received a provider object \(each check needs a fresh one/);
    refused({ provider: inProcess }, /option "bodies" must be an object of functions that make bodies .*, received undefined$/);
    refused({ provider: inProcess, bodies: { returns: functionBodies.returns } }, /option "bodies" lacks fails, echoesDeps, waitsForAbort/);
    refused(
      { provider: inProcess, bodies: { ...functionBodies, crashNode: () => () => 1 } },
      /option "bodies": unknown body maker "crashNode" \(did you mean "crashesNode"\?\)/,
    );
    refused(
      { provider: inProcess, bodies: { ...functionBodies, crashesNode: true } },
      /option "bodies.crashesNode" must be a function when given .*, received boolean true$/,
    );
    refused({ provider: inProcess, bodies: functionBodies, provder: inProcess }, /providerContract: unknown option "provder" \(did you mean "provider"\?\)/);
  });

  it("a factory that does not return a provider fails each check with that said", async () => {
    for (const check of providerContract({ provider: () => undefined as never, bodies: functionBodies })) {
      await assert.rejects(
        check.run(),
        (e: unknown) =>
          e instanceof FlotillaError && e.code === "E_INVALID_OPTION" && /provider.* must be a ComputeProvider object, received undefined/.test(e.message),
        check.name,
      );
    }
  });
});
