import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { NodeLostError, inProcess, type ComputeProvider, type TaskBody, type TaskContext } from "../src/index.ts";
import { providerContract, type ContractBodies } from "../src/testing/index.ts";
import { untilAborted } from "./helpers.ts";

/** Bodies for providers of in-process functions. */
const functionBodies: ContractBodies<TaskBody> = {
  returns: (value) => () => value,
  fails: (message) => () => {
    throw new Error(message);
  },
  echoesDeps: () => ({ deps }) => deps,
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
