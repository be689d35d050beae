/**
 * `startAgent()`: a process's part in a flotilla/bullmq pool. It registers as a node of the queue's
 * Relay namespace (its lease is its heartbeat), describes itself in the agents hash, and pulls
 * attempts from a BullMQ queue of its own, running each on a local provider. Cancels reach it as Relay
 * messages on its cancel topic. Redis and BullMQ errors are reported through `onEvent`, never thrown.
 */
import { hostname } from "node:os";
import { type ConnectionOptions, type Job, Queue, Relay, type RelayMessage, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { FlotillaError, messageOf } from "../../../src/errors.ts";
import { bullmqConnection, connectionName, newClient } from "../connection.ts";
import { boundedClose } from "../closing.ts";
import { BULLMQ_ERROR_CODES } from "../errors.ts";
import { agentQueueName, agentsKey, cancelTopic, relayNamespace } from "../names.ts";
import { type AgentInfo, type AttemptResult, WIRE_VERSION } from "../wire.ts";
import { Attempts } from "./attempts.ts";
import { LocalNodes } from "./local-nodes.ts";
import { type AgentOptions, type ResolvedAgentOptions, resolveAgentOptions } from "./options.ts";

/** A running agent. */
export interface Agent {
  readonly id: string;
  /** What it wrote in the agents hash. */
  readonly info: AgentInfo;
  /** Attempts running now. */
  readonly running: number;
  /** Stops pulling, lets running attempts finish (`force`: aborts them first), and releases everything. Idempotent. */
  close(options?: { readonly force?: boolean }): Promise<void>;
}

/**
 * Starts an agent; resolves once it is registered and pulling. Throws E_INVALID_OPTION for a bad
 * option, and rejects with E_REDIS_UNAVAILABLE (having released what it made) when Redis cannot be
 * reached within `startTimeoutMs` (15 s).
 *
 * @example
 * const agent = await startAgent({ connection: process.env.FLOTILLA_REDIS_URL!, queue: "builds", modules: "./tasks",
 *   providers: [workerThreads({ threads: 4, tasksPerThread: 1 }), childProcess({ slots: 4 })] });
 * process.once("SIGTERM", () => void agent.close());
 */
export async function startAgent(options: AgentOptions): Promise<Agent> {
  const agent = new RemoteAgent(resolveAgentOptions(options));
  await agent.start();
  return agent;
}

class RemoteAgent implements Agent {
  readonly #o: ResolvedAgentOptions;
  readonly info: AgentInfo;
  readonly #nodes: LocalNodes;
  readonly #attempts: Attempts;
  readonly #client: Redis;
  readonly #ownsClient: boolean;
  readonly #relay: Relay;
  #worker: Worker | undefined = undefined;
  #infoTimer: ReturnType<typeof setInterval> | undefined = undefined;
  #closing: Promise<void> | undefined = undefined;
  readonly #onError = (error: unknown): void => {
    this.#lastError = messageOf(error);
    // Refused credentials do not get better by waiting: a start fails at once, naming the refusal.
    if (/\b(WRONGPASS|NOAUTH|NOPERM)\b/.test(this.#lastError)) this.#refused?.(error);
    this.#o.onEvent({ type: "error", error });
  };
  #lastError: string | undefined = undefined;
  #refused: ((error: unknown) => void) | undefined = undefined;
  readonly #onSignal = (): void => void this.close();
  readonly #onLockLost = (jobIds: string[]): void => this.#attempts.lockLost(jobIds);

  constructor(o: ResolvedAgentOptions) {
    this.#o = o;
    this.#nodes = new LocalNodes(o.providers, this.#onError);
    this.info = {
      v: WIRE_VERSION,
      id: o.id,
      queue: agentQueueName(o.queue, o.id),
      concurrency: o.concurrency,
      kinds: this.#nodes.kinds,
      host: hostname(),
      pid: process.pid,
      startedAt: Date.now(),
      maxPayloadBytes: o.maxPayloadBytes,
      maxOutputBytes: o.maxOutputBytes,
    };
    this.#attempts = new Attempts(o, this.#nodes);
    const { client, owned } = newClient(o.connection, `flotilla-agent-${o.id}`);
    [this.#client, this.#ownsClient] = [client, owned];
    client.on("error", this.#onError);
    this.#relay = new Relay({
      connection: bullmqConnection(o.connection),
      prefix: o.prefix,
      namespace: relayNamespace(o.queue),
      nodeId: o.id,
      name: "flotilla-agent",
      leaseDuration: o.leaseMs,
    });
    this.#relay.on("error", this.#onError);
  }

  get id(): string {
    return this.#o.id;
  }

  get running(): number {
    return this.#attempts.running;
  }

  async start(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const where = connectionName(this.#o.connection);
    const timeout = new Promise<never>((_, reject) => {
      this.#refused = (error) =>
        reject(
          new FlotillaError(BULLMQ_ERROR_CODES.E_REDIS_UNAVAILABLE, `agent "${this.id}": Redis at ${where} refused its credentials: ${messageOf(error)}`, {
            cause: error,
          }),
        );
      timer = setTimeout(() => {
        const last = this.#lastError === undefined ? "" : `; last error: ${this.#lastError}`;
        reject(
          new FlotillaError(
            BULLMQ_ERROR_CODES.E_REDIS_UNAVAILABLE,
            `agent "${this.id}": Redis at ${where} could not be reached within ${this.#o.startTimeoutMs} ms${last}`,
          ),
        );
      }, this.#o.startTimeoutMs);
    });
    try {
      await Promise.race([this.#startParts(), timeout]);
    } catch (error) {
      await this.#release(false);
      throw error;
    } finally {
      clearTimeout(timer);
      this.#refused = undefined;
    }
    if (this.#o.signal?.aborted) this.#onSignal();
    else this.#o.signal?.addEventListener("abort", this.#onSignal, { once: true });
    this.#o.onEvent({ type: "ready", info: this.info });
  }

  async #startParts(): Promise<void> {
    const o = this.#o;
    // The Relay first: the coordinator trusts an agent in the hash only while its lease is alive.
    await this.#relay.waitUntilReady();
    await this.#relay.subscribe(cancelTopic(o.id), (message: RelayMessage) => this.#attempts.cancel(message.data));
    await this.#writeInfo();
    // Written again every lease, so it is back soon after a Redis restart (which empties Redis).
    this.#infoTimer = setInterval(() => void this.#writeInfo().catch(this.#onError), o.leaseMs);
    if (this.#closing !== undefined) return;
    // One parameter: BullMQ builds an AbortController per job for a processor that declares a third
    // (its signal, aborted only by worker.cancelJob, which the agent does not use: cancels come as
    // Relay messages and abort the attempt's own AbortPoint).
    const processor = (job: Job): Promise<AttemptResult> => this.#attempts.process(job);
    const worker = new Worker(this.info.queue, processor, {
      // ioredis options or a client: BullMQ's union type does not see RedisOptions | Redis as one of its members.
      connection: bullmqConnection(o.connection) as ConnectionOptions,
      prefix: o.prefix,
      concurrency: o.concurrency,
      lockDuration: o.lockDurationMs,
      stalledInterval: o.lockDurationMs,
      // A stalled attempt fails at once: the coordinator requeues it (on any agent), not BullMQ.
      maxStalledCount: 0,
    });
    this.#worker = worker;
    worker.on("error", this.#onError);
    worker.on("lockRenewalFailed", this.#onLockLost);
    await worker.waitUntilReady();
  }

  async #obliterate(): Promise<void> {
    const queue = new Queue(this.info.queue, { connection: this.#client, prefix: this.#o.prefix });
    try {
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
    }
  }

  #writeInfo(): Promise<unknown> {
    return this.#client.hset(agentsKey(this.#o.prefix, this.#o.queue), this.id, JSON.stringify(this.info));
  }

  close(options?: { readonly force?: boolean }): Promise<void> {
    if (options?.force === true) this.#attempts.abortAll(new FlotillaError("E_CANCELLED", `agent "${this.id}" was closed with force`));
    this.#closing ??= this.#release(true);
    return this.#closing;
  }

  /** Releases everything, in order: no more pulling, running attempts settled, the hash entry, the Relay, the nodes, the connection. */
  async #release(registered: boolean): Promise<void> {
    this.#closing ??= Promise.resolve(); // a close during start stops it from going on
    this.#o.signal?.removeEventListener("abort", this.#onSignal);
    clearInterval(this.#infoTimer);
    // Says it is draining, so coordinators place nothing more on it (best effort: Redis may be gone).
    if (registered)
      await boundedClose(this.#client.hset(agentsKey(this.#o.prefix, this.#o.queue), this.id, JSON.stringify({ ...this.info, draining: true }))).catch(
        this.#onError,
      );
    const worker = this.#worker;
    // Stops pulling; its attempts end whatever Redis does, and a close Redis cannot answer is forced.
    const draining = worker?.close();
    await this.#attempts.settled();
    if (worker !== undefined)
      await boundedClose(draining!)
        .catch(() => boundedClose(worker.close(true)))
        .catch(this.#onError);
    if (registered) {
      await boundedClose(this.#client.hdel(agentsKey(this.#o.prefix, this.#o.queue), this.id)).catch(this.#onError);
      // Its queue goes with it (finished jobs kept for lost answers, jobs placed while it drained, which
      // their coordinators requeue): an agent's queue is its own, and a new agent has a new one.
      await boundedClose(this.#obliterate()).catch(this.#onError);
    }
    await boundedClose(this.#relay.close()).catch(this.#onError);
    await this.#nodes.stop();
    if (this.#ownsClient) {
      // quit() waits for Redis; a client that cannot reach it is cut off instead.
      if (this.#client.status === "ready") await boundedClose(this.#client.quit()).catch(() => this.#client.disconnect());
      else this.#client.disconnect();
    }
    worker?.off("error", this.#onError).off("lockRenewalFailed", this.#onLockLost);
    this.#relay.off("error", this.#onError);
    this.#client.off("error", this.#onError);
  }
}
