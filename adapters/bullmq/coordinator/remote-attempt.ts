/**
 * One attempt on an agent, on the coordinator's side: its job (sent by the hub, perhaps again), its
 * answer (taken once; later ones are ignored), its log lines, and its cancel — withdrawn from the
 * agent's queue if it has not started, otherwise sent to the agent, which aborts the attempt (and
 * kills its thread or process group after their grace); given up after `cancelAnswerMs` without an
 * answer.
 */
import { AbortGrace, nodeLostError, Outcome } from "../../../src/provider-kit/index.ts";
import type { TaskContext } from "../../../src/task-context.ts";
import type { AttemptData, AttemptResult, ProgressData } from "../wire.ts";
import { CANCELLED_JOB } from "../wire.ts";
import type { ResolvedOptions } from "../options.ts";
import type { Runtime } from "../../../src/runtime.ts";
import { readResult } from "./revive.ts";

/** What an attempt needs of the hub that placed it. */
export interface AttemptHost {
  readonly runtime: Runtime;
  readonly options: ResolvedOptions;
  /** Removes its job from the agent's queue if the agent has not started it; false otherwise. */
  withdraw(attempt: RemoteAttempt): Promise<boolean>;
  /** Tells the agent to abort its attempt. */
  cancel(attempt: RemoteAttempt, reason: unknown): Promise<void>;
}

export class RemoteAttempt {
  readonly outcome = new Outcome<unknown>();
  readonly hub: AttemptHost;
  readonly agentId: string;
  readonly data: AttemptData;
  readonly ctx: TaskContext<any>;
  #sent = false;
  /** The agent answered (a result, or a failure BullMQ recorded): its job needs no recall. */
  #answered = false;
  /** The attempt's abort: sent on to the agent, given up after `cancelAnswerMs` without an answer. */
  readonly #grace: AbortGrace;
  /** Why its node let it go (stopped under it), for the cancel sent to the agent. */
  #recalled: unknown = undefined;
  /** How many times the job was sent again after it vanished. */
  resends = 0;
  /** Its agent took it from its queue (BullMQ's "active"), or it ended: it no longer waits there (the hub's count). */
  taken = false;
  /** When its agent took it (BullMQ's "active", the hub's clock); -1 until then. */
  takenAt = -1;

  constructor(hub: AttemptHost, agentId: string, data: AttemptData, ctx: TaskContext<any>) {
    this.hub = hub;
    this.agentId = agentId;
    this.data = data;
    this.ctx = ctx;
    this.#grace = new AbortGrace({
      graceMs: hub.options.cancelAnswerMs,
      // Not sent yet: the hub's flush drops it (skipped) or its send is on the way (sent() cancels it then).
      stop: (reason) => {
        if (this.#sent) void this.#cancelRemote(reason);
      },
      escalate: () => this.outcome.reject(this.#grace.reason),
      timers: hub.runtime,
    });
    this.outcome.onSettle(() => this.#grace.release());
  }

  get jobId(): string {
    return this.data.key;
  }

  get isSent(): boolean {
    return this.#sent;
  }

  get aborted(): boolean {
    return this.#grace.aborted;
  }

  /** What runs, for messages. */
  get work(): string {
    const body = this.data.body;
    return body.kind === "command" ? `command ${JSON.stringify(body.argv)}` : `export "${body.export}" of ${body.path}`;
  }

  /** Listens for the attempt's abort (after the hub has registered the attempt). */
  watch(): void {
    this.#grace.watch(this.ctx);
  }

  sent(): Promise<void> {
    this.#sent = true;
    // Aborted, or let go (its node stopped) while the send was on its way: take the job back now.
    if (this.#answered) return Promise.resolve();
    if (this.#grace.aborted) return this.#cancelRemote(this.#grace.reason);
    return this.outcome.settled ? this.#cancelRemote(this.#recalled) : Promise.resolve();
  }

  /** Its node was stopped under it: withdraw or cancel its job (when it was sent; otherwise `sent()` does). */
  recall(reason: unknown): Promise<void> {
    this.#recalled = reason;
    return this.#sent && !this.#answered ? this.#cancelRemote(this.#grace.aborted ? this.#grace.reason : reason) : Promise.resolve();
  }

  resent(): void {
    this.#sent = false;
    this.resends++;
  }

  reject(error: unknown): void {
    this.outcome.reject(error);
  }

  /** Its agent took it from its queue: the run counts it as started from now (once; later calls are ignored). */
  began(): void {
    if (!this.outcome.settled) this.ctx.started?.();
  }

  answered(agentId: string, result: AttemptResult): void {
    if (agentId !== this.agentId) return; // not the agent it was sent to: not its answer
    this.#answered = true;
    if (this.#grace.aborted) {
      this.outcome.reject(this.#grace.reason);
      return;
    }
    const read = readResult(result, agentId, `task "${this.ctx.taskId}" attempt ${this.ctx.attempt}`);
    if (read.ok) this.outcome.resolve(read.value);
    else this.outcome.reject(read.error);
  }

  failed(agentId: string, reason: string): void {
    if (agentId !== this.agentId) return;
    this.#answered = true;
    if (this.#grace.aborted) this.outcome.reject(this.#grace.reason);
    else if (reason === CANCELLED_JOB)
      return; // a cancel this coordinator did not send (its answer comes with the abort)
    else {
      // BullMQ failed the job itself: the agent lost its lock (it stalled). The agent is not answering in time.
      this.outcome.reject(nodeLostError(agentId, this.ctx, `BullMQ failed its job on agent "${agentId}": ${reason}`));
    }
  }

  progress(agentId: string, data: ProgressData): void {
    if (agentId !== this.agentId || this.outcome.settled || !Array.isArray(data?.log)) return;
    for (const entry of data.log) {
      if (Array.isArray(entry) && typeof entry[1] === "string") this.ctx.log(entry[1], entry[0] === "stdout" || entry[0] === "stderr" ? entry[0] : "log");
    }
  }

  /** The flush found it aborted before it was sent. */
  skipped(): void {
    this.outcome.reject(this.#grace.reason);
  }

  /** Withdrawn from the agent's queue if it has not started; otherwise the agent is told to abort it. */
  #cancelRemote(reason: unknown): Promise<void> {
    return this.hub
      .withdraw(this)
      .then((removed) => {
        if (removed) this.outcome.reject(reason);
        else return this.hub.cancel(this, reason);
      })
      .catch(() => {});
  }
}
