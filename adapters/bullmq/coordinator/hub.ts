/**
 * The coordinator's side of remote agents, on any `Transport`: which agents are nodes, the attempts in
 * flight on each (by job id), what their answers mean, and the heartbeat that finds lost agents and
 * lost answers. One hub per `bullmq()` provider; it opens its transport with its first node and closes
 * it after its last. Timers and randomness come from the pool's runtime, so the hub runs under
 * `explore()` against a model of the queue.
 *
 * Delivery is at least once: an attempt whose job vanished (Redis restarted empty, an answer lost) is
 * sent again under the same job id and idempotency key; an answer for a job that is not in flight (heard
 * twice, or after its attempt ended) is ignored.
 */
import { FlotillaError, NodeLostError, messageOf } from "../../../src/errors.ts";
import { attemptName, foreignNodeError, nodeGoneError, nodeLostError, nodeStoppedError, wait } from "../../../src/provider-kit/index.ts";
import type { NodeReport, ProviderNode } from "../../../src/provider.ts";
import { type Runtime, type TimerHandle, realRuntime } from "../../../src/runtime.ts";
import type { TaskContext } from "../../../src/task-context.ts";
import { BULLMQ_ERROR_CODES } from "../errors.ts";
import type { ResolvedOptions } from "../options.ts";
import { type AttemptData, type AttemptResult, type ProgressData, WIRE_VERSION, errorWire } from "../wire.ts";
import type { AgentNode } from "./agent-node.ts";
import { type BootHost, type BootedVm, bootAgent, unboot } from "./boot.ts";
import { encodeBody, encodePayload } from "./encode.ts";
import { Outbox } from "./outbox.ts";
import { QueueDepth } from "./queue-depth.ts";
import { type AttemptHost, RemoteAttempt } from "./remote-attempt.ts";
import type { AgentSeen, Transport, TransportListener } from "./transport.ts";

/** An agent this hub holds as a node. */
interface Held {
  readonly node: AgentNode;
  readonly report: NodeReport | undefined;
  readonly attempts: Set<RemoteAttempt>;
  /** Of those, how many are not taken by the agent yet (to be sent, or waiting in its queue). */
  waiting: number;
  /** When it was last seen alive (the hub's clock). */
  lastSeen: number;
  gone: "lost" | "stopped" | undefined;
  /** Its agent said it is closing: nothing new is placed on it, and it is let go once its attempts end. */
  draining: boolean;
  /** For an agent the hub booted: its VM, and how to stop its command. */
  readonly boot: BootedVm | undefined;
  /** How many attempts wait in its queue, by the time they take. */
  readonly depth: QueueDepth;
}

/** Every this many heartbeats, the jobs in flight are looked up, to find answers that were lost. */
const RECONCILE_EVERY = 5;

export class RemoteHub implements TransportListener, AttemptHost {
  readonly options: ResolvedOptions;
  readonly #makeTransport: (listener: TransportListener) => Transport;
  #transport: Transport | undefined = undefined;
  #runtime: Runtime = realRuntime;
  #users = 0;
  readonly #held = new Map<string, Held>();
  readonly #claiming = new Set<string>();
  readonly #jobs = new Map<string, RemoteAttempt>();
  readonly #outbox = new Outbox((lists) => this.#send(lists));
  #timer: TimerHandle = undefined;
  #ticks = 0;
  #ticking = false;
  #up = true;
  #downSince = 0;
  /** When Redis last answered a heartbeat (the hub's clock). */
  #answeredAt = 0;
  #prefix = "";
  #seq = 0;
  #boots = 0;

  constructor(options: ResolvedOptions, makeTransport: (listener: TransportListener) => Transport) {
    this.options = options;
    this.#makeTransport = makeTransport;
  }

  get runtime(): Runtime {
    return this.#runtime;
  }

  /** Takes an agent as a node: the first live one no node of this hub holds, waiting for one if none is. */
  async start(report: NodeReport | undefined): Promise<AgentNode> {
    const transport = this.#acquire(report?.runtime);
    try {
      if (this.options.boot !== undefined) {
        const host: BootHost = {
          options: this.options,
          runtime: this.#runtime,
          agents: () => this.#bounded(transport.agents(), "list the agents"),
          take: (seen, vm) => this.#take(transport, seen, report, vm),
          gone: (agentId, how, why, reason) => this.#bootGone(agentId, how, why, reason),
        };
        return await bootAgent(host, `${this.#prefix}-boot-${++this.#boots}`, report);
      }
      for (;;) {
        report?.signal?.throwIfAborted();
        const seen = await this.#bounded(transport.agents(), "list the agents");
        report?.signal?.throwIfAborted();
        const pick = choose(seen, (id) => this.#held.has(id) || this.#claiming.has(id));
        if (pick !== undefined) return await this.#take(transport, pick, report);
        await wait(this.#runtime, this.options.heartbeatMs, report?.signal);
      }
    } catch (error) {
      await this.#release();
      throw error;
    }
  }

  stop(node: ProviderNode): Promise<void> | undefined {
    const held = this.#held.get(node?.id);
    if (held === undefined || held.node !== node) return undefined;
    this.#held.delete(node.id);
    if (held.gone === undefined) held.gone = "stopped";
    // Attempts still on the agent are taken back (withdrawn, or cancelled there) so nothing outlives the node.
    const recalls: Promise<void>[] = [];
    for (const attempt of [...held.attempts]) {
      const error = nodeStoppedError(node.id, attempt.ctx, attempt.work, "its job on the agent was withdrawn or cancelled");
      attempt.reject(error);
      recalls.push(attempt.recall(error));
    }
    return Promise.allSettled(recalls)
      .then(() => this.#transport?.shut(node.id).catch(() => {}))
      .then(() => unboot(held.boot, this.options))
      .finally(() => this.#release());
  }

  run(node: ProviderNode, body: unknown, ctx: TaskContext<any>): Promise<unknown> {
    const held = this.#held.get((node as { id?: string } | null)?.id as string);
    if (held === undefined || held.node !== node) return Promise.reject(foreignNodeError(this.options.name, node, ctx.taskId));
    if (held.gone !== undefined) return Promise.reject(nodeGoneError(node.id, held.gone, ctx));
    if (held.draining)
      return Promise.reject(new NodeLostError(node.id, `node "${node.id}" is draining (its agent is closing); ${attemptName(ctx)} cannot run on it`));
    let data: AttemptData;
    try {
      // Through onAbort, not ctx.signal: reading the signal builds an AbortController per attempt.
      let aborted: { reason: unknown } | undefined;
      ctx.onAbort((reason) => (aborted = { reason }))();
      if (aborted !== undefined) throw aborted.reason;
      const wire = encodeBody(body, ctx.taskId, this.options);
      const jobId = `${this.#prefix}-${++this.#seq}`;
      data = { v: WIRE_VERSION, key: jobId, taskId: ctx.taskId, attempt: ctx.attempt, body: wire, payload: encodePayload(body, wire, ctx, this.options) };
    } catch (error) {
      return Promise.reject(error);
    }
    const attempt = new RemoteAttempt(this, held.node.id, data, ctx);
    held.attempts.add(attempt);
    held.waiting++;
    this.#jobs.set(data.key, attempt);
    attempt.outcome.onSettle(() => {
      this.#taken(held, attempt);
      held.attempts.delete(attempt);
      this.#jobs.delete(data.key);
      if (held.draining) this.#drained(held);
    });
    this.#enqueue(attempt);
    attempt.watch();
    return attempt.outcome.promise;
  }

  // ---- what the transport tells ----------------------------------------------------------------

  active(agentId: string, jobId: string): void {
    const attempt = this.#jobs.get(jobId);
    const held = this.#held.get(agentId);
    if (attempt === undefined || held === undefined || !held.attempts.has(attempt)) return; // not its agent's job (any more)
    this.#taken(held, attempt);
    attempt.takenAt = this.#runtime.now();
    attempt.began();
  }

  result(agentId: string, jobId: string, result: AttemptResult): void {
    const attempt = this.#jobs.get(jobId);
    if (attempt === undefined) return;
    const held = this.#held.get(agentId);
    // Work time only: not a refusal (answered at once), nor an answer kept from before a resend.
    if (held !== undefined && attempt.takenAt >= 0 && attempt.agentId === agentId && result?.t !== "refused" && attempt.resends === 0)
      held.depth.measured(this.#runtime.now() - attempt.takenAt);
    attempt.answered(agentId, result);
  }

  failed(agentId: string, jobId: string, reason: string): void {
    this.#jobs.get(jobId)?.failed(agentId, reason);
  }

  progress(agentId: string, jobId: string, data: ProgressData): void {
    this.#jobs.get(jobId)?.progress(agentId, data);
  }

  connection(up: boolean): void {
    if (up === this.#up) return;
    this.#up = up;
    const now = this.#runtime.now();
    if (!up) {
      this.#downSince = now;
      return;
    }
    this.#answeredAt = now;
    // Redis is back (perhaps empty): agents get a fresh grace to be seen, and every job in flight is looked up.
    for (const held of this.#held.values()) held.lastSeen = now;
    void this.#reconcile();
  }

  // ---- used by attempts ------------------------------------------------------------------------

  withdraw(attempt: RemoteAttempt): Promise<boolean> {
    return this.#transport === undefined ? Promise.resolve(false) : this.#transport.withdraw(attempt.agentId, attempt.jobId).catch(() => false);
  }

  cancel(attempt: RemoteAttempt, reason: unknown): Promise<void> {
    return this.#transport === undefined ? Promise.resolve() : this.#transport.cancel(attempt.agentId, { jobId: attempt.jobId, reason: errorWire(reason) });
  }

  // ---- inside ----------------------------------------------------------------------------------

  #acquire(runtime: Runtime | undefined): Transport {
    if (this.#users++ === 0) {
      this.#runtime = runtime ?? realRuntime;
      this.#prefix = Math.floor(this.#runtime.random() * 36 ** 8)
        .toString(36)
        .padStart(8, "0");
      this.#up = true;
      this.#answeredAt = this.#runtime.now();
      this.#transport = this.#makeTransport(this);
      this.#arm();
    }
    return this.#transport!;
  }

  /** Lets go of the transport; the last user's release closes it, and resolves once it is closed. */
  #release(): Promise<void> {
    if (--this.#users > 0) return Promise.resolve();
    this.#runtime.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#outbox.stop(this.#runtime);
    const transport = this.#transport;
    this.#transport = undefined;
    // Awaited by the last node's stop, so a pool's close() ends after the connections did.
    return transport === undefined ? Promise.resolve() : transport.close().catch(() => {});
  }

  async #take(transport: Transport, seen: AgentSeen, report: NodeReport | undefined, boot?: BootedVm): Promise<AgentNode> {
    const id = seen.info.id;
    this.#claiming.add(id);
    try {
      await this.#bounded(transport.open(seen.info), `hear agent "${id}"`);
      // The agent runs `concurrency` attempts; the others placed on it wait in its queue, started when it takes them.
      const slots = seen.info.concurrency;
      const depth = new QueueDepth(slots, slots * (this.options.prefetch - 1), report);
      const node: AgentNode = Object.freeze({ id, slots, prefetch: depth.current, agent: seen.info });
      if (report?.signal?.aborted) {
        await transport.shut(id).catch(() => {});
        throw report.signal.reason;
      }
      this.#held.set(id, { node, report, attempts: new Set(), waiting: 0, lastSeen: this.#runtime.now(), gone: undefined, draining: false, boot, depth });
      return node;
    } finally {
      this.#claiming.delete(id);
    }
  }

  /** For a booted agent's VM lost or preempted, or its command ended: the node is lost (or preempted). */
  #bootGone(agentId: string, how: "lost" | "preempted", why: string, reason: unknown): void {
    const held = this.#held.get(agentId);
    if (held === undefined || held.boot === undefined || held.gone !== undefined) return;
    if (how === "preempted" && typeof held.report?.preempted === "function") {
      held.gone = "lost";
      for (const attempt of [...held.attempts]) attempt.reject(nodeLostError(held.node.id, attempt.ctx, why, reason));
      held.report.preempted(reason ?? nodeLostError(held.node.id, undefined, why));
    } else this.#lose(held, nodeLostError(held.node.id, undefined, why, reason));
  }

  #enqueue(attempt: RemoteAttempt): void {
    const held = this.#held.get(attempt.agentId);
    // Busy: a full round of its work (its concurrency) is in Redis, not taken yet (`waiting` counts
    // this attempt and those in the outbox too).
    const busy = held !== undefined && held.waiting - 1 - this.#outbox.count(attempt.agentId) >= held.node.slots;
    this.#outbox.add(attempt, busy, this.#runtime);
  }

  /** `attempt` no longer waits in its agent's queue (taken, or ended): counted once. */
  #taken(held: Held, attempt: RemoteAttempt): void {
    if (attempt.taken) return;
    attempt.taken = true;
    held.waiting--;
  }

  /** Sends what waited in the outbox, one addBulk per agent. */
  #send(outbox: ReadonlyMap<string, RemoteAttempt[]>): void {
    const transport = this.#transport;
    for (const [agentId, attempts] of outbox) {
      for (const a of attempts) if (a.aborted) a.skipped();
      const live = attempts.filter((a) => !a.outcome.settled);
      if (live.length === 0 || transport === undefined) continue;
      const jobs = live.map((a) => ({ jobId: a.jobId, name: a.ctx.taskId, data: a.data }));
      this.#users++; // the transport stays open until the send has settled (and a late cancel has gone out)
      transport
        .send(agentId, jobs)
        .then(
          () => {
            return Promise.all(live.map((a) => a.sent()));
          },
          (error: unknown) => {
            for (const a of live)
              a.reject(
                new FlotillaError(
                  BULLMQ_ERROR_CODES.E_REDIS_UNAVAILABLE,
                  `${attemptName(a.ctx)}: could not be sent to agent "${agentId}": ${messageOf(error)}`,
                  { cause: error },
                ),
              );
          },
        )
        .finally(() => this.#release());
    }
  }

  #arm(): void {
    this.#timer = this.#runtime.setTimer(this.options.heartbeatMs, () => this.#tick(), "bullmq heartbeat");
  }

  async #tick(): Promise<void> {
    if (this.#transport === undefined) return;
    this.#arm();
    // Checked before the in-flight guard: a heartbeat waiting on a Redis that went away (closed, or
    // silent: frozen, partitioned) must not hide the outage.
    const now = this.#runtime.now();
    const silent = this.#up ? now - this.#answeredAt : now - this.#downSince;
    if (silent >= this.options.redisTimeoutMs) this.#redisGone(silent);
    if (!this.#up || this.#ticking) return;
    this.#ticking = true;
    try {
      const seen = await this.#transport.agents();
      this.#answeredAt = this.#runtime.now();
      const live = new Set(seen.filter((s) => s.live).map((s) => s.info.id));
      const after = this.#runtime.now();
      for (const s of seen) {
        const held = this.#held.get(s.info.id);
        if (held !== undefined && s.info.draining === true && !held.draining) {
          held.draining = true;
          this.#drained(held);
        }
      }
      for (const held of [...this.#held.values()]) {
        if (live.has(held.node.id)) held.lastSeen = after;
        else if (this.#up && after - held.lastSeen >= this.options.lostAfterMs)
          this.#lose(held, nodeLostError(held.node.id, undefined, `its agent has not been seen alive for ${after - held.lastSeen} ms (its heartbeat stopped)`));
      }
      if (++this.#ticks % RECONCILE_EVERY === 0) await this.#reconcile();
    } catch {
      // Redis did not answer: the connection listener and the next tick decide.
    } finally {
      this.#ticking = false;
    }
  }

  /** Looks up every job in flight: takes answers that were not heard, sends again jobs that vanished. */
  async #reconcile(): Promise<void> {
    const transport = this.#transport;
    if (transport === undefined) return;
    const byAgent = new Map<string, RemoteAttempt[]>();
    for (const attempt of this.#jobs.values()) {
      if (!attempt.isSent) continue;
      const list = byAgent.get(attempt.agentId);
      if (list === undefined) byAgent.set(attempt.agentId, [attempt]);
      else list.push(attempt);
    }
    for (const [agentId, attempts] of byAgent) {
      let states: Awaited<ReturnType<Transport["states"]>>;
      try {
        states = await transport.states(
          agentId,
          attempts.map((a) => a.jobId),
        );
      } catch {
        return;
      }
      attempts.forEach((attempt, i) => {
        const s = states[i];
        if (s === undefined || attempt.outcome.settled) return;
        if (s.state === "done") {
          if (typeof s.result === "object" && s.result !== null) attempt.answered(agentId, s.result);
        } else if (s.state === "failed") attempt.failed(agentId, s.reason);
        else if (s.state === "missing" && !attempt.aborted) {
          attempt.resent();
          this.#enqueue(attempt);
        }
      });
    }
  }

  /** A draining agent whose attempts have all ended is let go (nothing to requeue, nothing charged). */
  #drained(held: Held): void {
    if (held.attempts.size === 0) this.#lose(held, nodeLostError(held.node.id, undefined, "its agent is closing (it drained)"));
  }

  #lose(held: Held, error: NodeLostError): void {
    if (held.gone !== undefined) return;
    held.gone = "lost";
    for (const attempt of [...held.attempts])
      attempt.reject(nodeLostError(held.node.id, attempt.ctx, error.message.replace(/^node "[^"]*" was lost while idle: /, ""), error.cause));
    held.report?.lost(error);
  }

  #redisGone(downMs: number): void {
    const cause = new FlotillaError(
      BULLMQ_ERROR_CODES.E_REDIS_UNAVAILABLE,
      `Redis has not answered for ${downMs} ms (redisTimeoutMs ${this.options.redisTimeoutMs})${this.#lastError()}; provider "${this.options.name}" gave up the attempts it held`,
    );
    for (const held of [...this.#held.values()]) this.#lose(held, nodeLostError(held.node.id, undefined, cause.message, cause));
  }

  /** `promise`, or E_REDIS_UNAVAILABLE after `redisTimeoutMs`. */
  #bounded<T>(promise: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.#runtime.setTimer(this.options.redisTimeoutMs, () =>
        reject(
          new FlotillaError(
            BULLMQ_ERROR_CODES.E_REDIS_UNAVAILABLE,
            `provider "${this.options.name}" could not ${what}: Redis did not answer within ${this.options.redisTimeoutMs} ms (redisTimeoutMs)`,
          ),
        ),
      );
      promise.then(
        (value) => {
          this.#runtime.clearTimer(timer);
          resolve(value);
        },
        (error: unknown) => {
          this.#runtime.clearTimer(timer);
          reject(error);
        },
      );
    });
  }

  /** `; last connection error: ...`, when the transport heard one. */
  #lastError(): string {
    const last = this.#transport?.lastError?.();
    return last === undefined ? "" : `; last connection error: ${last}`;
  }
}

/** The live agent to take: of this wire version, held by no node of the hub, longest running first (then by id). */
function choose(seen: readonly AgentSeen[], taken: (id: string) => boolean): AgentSeen | undefined {
  let best: AgentSeen | undefined;
  for (const s of seen) {
    if (!s.live || s.info.v !== WIRE_VERSION || s.info.draining === true || taken(s.info.id)) continue;
    if (best === undefined || s.info.startedAt < best.info.startedAt || (s.info.startedAt === best.info.startedAt && s.info.id < best.info.id)) best = s;
  }
  return best;
}
