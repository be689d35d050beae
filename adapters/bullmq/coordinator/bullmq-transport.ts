/**
 * The coordinator's `Transport` on Redis, with BullMQ: a `Queue` per agent (sharing one connection)
 * to add, withdraw and look up jobs; a reader of each agent queue's events stream (event-reader.ts,
 * what BullMQ's `QueueEvents` reads, in fewer reads under load) for its jobs' start, results, failures
 * and progress (read from the stream's last entry when the agent is taken, so nothing sent after is
 * missed); BullMQ's `Relay` for the agents' liveness (their leases) and for cancels sent to one agent.
 */
import { Job, Queue, Relay } from "bullmq";
import type { Redis, RedisOptions } from "ioredis";
import { boundedClose } from "../closing.ts";
import { bullmqConnection, newClient } from "../connection.ts";
import { agentsKey, cancelTopic, relayNamespace } from "../names.ts";
import type { ResolvedOptions } from "../options.ts";
import type { AgentInfo, AttemptResult, ProgressData } from "../wire.ts";
import { EventReader } from "./event-reader.ts";
import type { AgentSeen, JobState, Transport, TransportListener } from "./transport.ts";

export function bullmqTransport(options: ResolvedOptions, listener: TransportListener): Transport {
  return new BullmqTransport(options, listener);
}

class BullmqTransport implements Transport {
  readonly #options: ResolvedOptions;
  readonly #listener: TransportListener;
  readonly #client: Redis;
  readonly #owned: boolean;
  readonly #relay: Relay;
  readonly #agents = new Map<string, { readonly queue: Queue; readonly events: EventReader }>();
  #wasUp = false;
  #lastError: string | undefined = undefined;
  /** Agents described in the hash but not alive, since when (performance.now()). */
  readonly #deadSince = new Map<string, number>();

  constructor(options: ResolvedOptions, listener: TransportListener) {
    this.#options = options;
    this.#listener = listener;
    const { client, owned } = newClient(options.connection, "flotilla-coordinator");
    this.#client = client;
    this.#owned = owned;
    client.on("ready", () => {
      if (this.#wasUp) listener.connection(true);
      this.#wasUp = true;
    });
    client.on("close", () => listener.connection(false));
    // ioredis reconnects by itself; the hub bounds how long it waits, and names the last error.
    client.on("error", (error: Error) => {
      this.#lastError = error.message;
    });
    this.#relay = new Relay({
      connection: bullmqConnection(options.connection),
      prefix: options.prefix,
      namespace: relayNamespace(options.queue),
      name: "flotilla-coordinator",
      // Its inbox read blocks this long at most: a close waits for it, and must end within CLOSE_MS.
      blockTimeout: 1000,
    });
    this.#relay.on("error", () => {});
  }

  async agents(): Promise<readonly AgentSeen[]> {
    const [described, nodes] = await Promise.all([this.#client.hgetall(agentsKey(this.#options.prefix, this.#options.queue)), this.#relay.getNodes()]);
    const live = new Set(nodes.filter((n) => n.lastHeartbeat !== undefined).map((n) => n.id));
    this.#forgetStale(Object.keys(described), live);
    const seen: AgentSeen[] = [];
    for (const [id, json] of Object.entries(described)) {
      let info: AgentInfo;
      try {
        info = JSON.parse(json) as AgentInfo;
      } catch {
        continue; // not an agent's description: ignored, as BullMQ ignores keys it does not know
      }
      if (typeof info !== "object" || info === null || info.id !== id || typeof info.queue !== "string" || !Number.isInteger(info.concurrency)) continue;
      seen.push({ info, live: live.has(id) });
    }
    return seen;
  }

  async open(agent: AgentInfo): Promise<void> {
    if (this.#agents.has(agent.id)) return;
    const prefix = this.#options.prefix;
    const queue = new Queue(agent.queue, { connection: this.#client, prefix });
    queue.on("error", () => {});
    // Events from the stream's last entry on: what the agent answers from now on is heard.
    const last = (await this.#client.xrevrange(`${prefix}:${agent.queue}:events`, "+", "-", "COUNT", 1))[0]?.[0] ?? "0-0";
    const id = agent.id;
    const events = new EventReader(this.#blockingConnection(), `${prefix}:${agent.queue}:events`, last, {
      active: (jobId) => this.#listener.active(id, jobId),
      completed: (jobId, returnvalue) => this.#listener.result(id, jobId, returnvalue as AttemptResult),
      failed: (jobId, reason) => this.#listener.failed(id, jobId, reason),
      progress: (jobId, data) => this.#listener.progress(id, jobId, data as ProgressData),
    });
    this.#agents.set(id, { queue, events });
  }

  async shut(agentId: string): Promise<void> {
    const agent = this.#agents.get(agentId);
    if (agent === undefined) return;
    this.#agents.delete(agentId);
    // A close waits for Redis; one that cannot reach it is cut off, so the process can still exit.
    await Promise.allSettled([boundedClose(agent.events.close()), closeOrCut(agent.queue)]);
  }

  async send(agentId: string, jobs: Parameters<Transport["send"]>[1]): Promise<void> {
    const queue = this.#queue(agentId);
    // Finished jobs go at once (keeping them cost Redis a quarter of flotilla's throughput): an answer
    // the hub did not hear is found by its reconcile as a missing job, sent again under the same key,
    // and answered by the agent from the outcomes it keeps.
    const opts = (jobId: string) => ({ jobId, attempts: 1, removeOnComplete: true, removeOnFail: true });
    // One job alone (a chain's next task) skips addBulk's pipeline, whose making (ioredis copies every
    // BullMQ script onto it) cost ~0.2 ms in a profile: the same script, one call.
    if (jobs.length === 1) await queue.add(jobs[0]!.name, jobs[0]!.data, opts(jobs[0]!.jobId));
    else await queue.addBulk(jobs.map((job) => ({ name: job.name, data: job.data, opts: opts(job.jobId) })));
  }

  async withdraw(agentId: string, jobId: string): Promise<boolean> {
    return (await this.#queue(agentId).remove(jobId)) === 1;
  }

  async cancel(agentId: string, message: Parameters<Transport["cancel"]>[1]): Promise<void> {
    await this.#relay.publish(cancelTopic(agentId), message);
  }

  async states(agentId: string, jobIds: readonly string[]): Promise<JobState[]> {
    const queue = this.#queue(agentId);
    return Promise.all(
      jobIds.map(async (jobId): Promise<JobState> => {
        // The state first, then the job: read the other way, a job finishing in between would look
        // completed with no result yet.
        const state = await queue.getJobState(jobId);
        if (state === "unknown") return { state: "missing" };
        if (state !== "completed" && state !== "failed") return { state: "pending" };
        const job = await Job.fromId(queue, jobId);
        if (job === undefined) return { state: "missing" };
        return state === "completed" ? { state: "done", result: job.returnvalue as AttemptResult } : { state: "failed", reason: job.failedReason };
      }),
    );
  }

  /**
   * Removes the descriptions of agents not seen alive for STALE_MS (killed agents cannot remove their
   * own): the hash stays the size of the fleet. Only after so long that a live agent, which writes its
   * description again every lease, cannot be mistaken for a dead one.
   */
  #forgetStale(described: readonly string[], live: ReadonlySet<string>): void {
    const now = performance.now();
    for (const id of described) {
      if (live.has(id)) {
        this.#deadSince.delete(id);
        continue;
      }
      const since = this.#deadSince.get(id);
      if (since === undefined) this.#deadSince.set(id, now);
      else if (now - since >= STALE_MS) {
        this.#deadSince.delete(id);
        void this.#client.hdel(agentsKey(this.#options.prefix, this.#options.queue), id).catch(() => {});
      }
    }
  }

  lastError(): string | undefined {
    return this.#lastError;
  }

  async close(): Promise<void> {
    const agents = [...this.#agents.keys()];
    await Promise.allSettled(agents.map((id) => this.shut(id)));
    await boundedClose(this.#relay.close()).catch(() => {});
    if (this.#owned) await boundedClose(this.#client.quit()).catch(() => this.#client.disconnect());
  }

  #queue(agentId: string): Queue {
    const agent = this.#agents.get(agentId);
    if (agent === undefined) throw new Error(`agent "${agentId}" is not open`);
    return agent.queue;
  }

  /** A blocking reader needs a connection of its own: options, never the shared client. */
  #blockingConnection(): RedisOptions {
    const c = this.#options.connection;
    return { ...(c.kind === "client" ? c.client.options : c.options), maxRetriesPerRequest: null };
  }
}

/** An agent not alive for this long has its description removed from the hash. */
const STALE_MS = 10 * 60_000;

async function closeOrCut(part: Queue): Promise<void> {
  await boundedClose(part.close()).catch(() => part.disconnect());
}
