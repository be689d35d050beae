/** `bullmq()`: the provider whose nodes are flotilla agents on a BullMQ queue (see index.ts). */
import type { ComputeProvider } from "../../src/provider.ts";
import type { LocalBody } from "./body.ts";
import { bullmqTransport } from "./coordinator/bullmq-transport.ts";
import { REMOTE_KINDS } from "./coordinator/encode.ts";
import { RemoteHub } from "./coordinator/hub.ts";
import type { Transport, TransportListener } from "./coordinator/transport.ts";
import { type BullmqOptions, resolveOptions } from "./options.ts";

/**
 * A compute provider whose nodes are agents (`flotilla agent --queue NAME`, or `startAgent()`) on
 * Redis: a node is one live agent, its slots the agent's concurrency; an attempt is a BullMQ job on
 * that agent's queue, its output the job's result. Runs `workerTask()` bodies (modules under the
 * `modules` folder, sent by relative path) and `command()` bodies. An agent that dies (its Relay lease
 * runs out) is lost: its attempts are requeued. Cancels reach the agent through BullMQ's Relay.
 * Delivery is at least once. Throws E_INVALID_OPTION for a bad option.
 *
 * @example
 * import { bullmq } from "flotilla/bullmq";
 * const agents = bullmq({ connection: "redis://127.0.0.1:6379", queue: "builds", modules: new URL("./tasks/", import.meta.url) });
 * const result = await run(job, { pools: { default: pool(agents, { maxNodes: 8 }) } });
 */
export function bullmq(options: BullmqOptions): ComputeProvider<LocalBody> {
  const resolved = resolveOptions(options);
  return remoteProvider(resolved, (listener) => bullmqTransport(resolved, listener));
}

/** The provider on any transport (a model of the queue in tests). */
export function remoteProvider(options: ReturnType<typeof resolveOptions>, transport: (listener: TransportListener) => Transport): ComputeProvider<LocalBody> {
  const hub = new RemoteHub(options, transport);
  return {
    name: options.name,
    kinds: REMOTE_KINDS,
    maxNodes: options.maxNodes,
    startNode: (report) => hub.start(report),
    stopNode: (node) => hub.stop(node),
    run: (node, body, ctx) => hub.run(node, body, ctx),
  };
}
