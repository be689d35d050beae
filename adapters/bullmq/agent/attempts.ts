/**
 * The agent's running attempts, by job id and by idempotency key: the processor's body. It returns an
 * AttemptResult for every outcome of the attempt's body; it throws only for an attempt that was
 * aborted — by its coordinator's cancel (`UnrecoverableError(CANCELLED_JOB)`, so BullMQ fails the job
 * and never retries it) or by a forced close.
 */
import { type Job, UnrecoverableError } from "bullmq";
import { messageOf } from "../../../src/errors.ts";
import { type AttemptResult, CANCELLED_JOB, errorWire } from "../wire.ts";
import { checkAttemptData, checkCancel, revive } from "./attempt-data.ts";
import { AbortPoint } from "./abort-point.ts";
import { runAttempt } from "./attempt.ts";
import { RecentCancels, RecentOutcomes } from "./cancels.ts";
import type { LocalNodes } from "./local-nodes.ts";
import type { AttemptOutcome, ResolvedAgentOptions } from "./options.ts";
import { LogBatcher } from "./progress.ts";

interface Running {
  readonly jobId: string;
  readonly controller: AbortPoint;
  /** When the coordinator's cancel arrived (performance.now()), once it has. */
  cancelledAt: number | undefined;
  /** Settles with the attempt: its result, or the error the processor throws. */
  readonly outcome: Promise<AttemptResult>;
}

export class Attempts {
  readonly #o: ResolvedAgentOptions;
  readonly #nodes: LocalNodes;
  readonly #byJob = new Map<string, Running>();
  readonly #byKey = new Map<string, Running>();
  readonly #cancels = new RecentCancels();
  /** Outcomes of attempts that ended here recently, by key: a job sent again after it ended gets it, not a second run. */
  readonly #finished = new RecentOutcomes<AttemptResult>();
  /** Every processor call not yet returned (duplicates included), for close. */
  readonly #pending = new Set<Promise<unknown>>();

  /** A local provider's abort listener threw: reported as the agent's error, the other listeners still ran. */
  readonly #listenerFailed = (error: unknown): void => this.#o.onEvent({ type: "error", error });

  constructor(o: ResolvedAgentOptions, nodes: LocalNodes) {
    this.#o = o;
    this.#nodes = nodes;
  }

  get running(): number {
    return this.#byKey.size;
  }

  process(job: Job): Promise<AttemptResult> {
    const call = this.#process(job);
    const tracked = call.catch(() => {});
    this.#pending.add(tracked);
    void tracked.then(() => this.#pending.delete(tracked));
    return call;
  }

  /** Resolves once every processor call has returned. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  /** A message on the cancel topic: abort that job's attempt, or remember it for when the job arrives. */
  cancel(message: unknown): void {
    const at = performance.now();
    const cancel = checkCancel(message);
    if (cancel === undefined) {
      this.#o.onEvent({ type: "error", error: new Error(`agent "${this.#o.id}" received a cancel message it cannot read: ${JSON.stringify(message)}`) });
      return;
    }
    this.#cancels.add(cancel.jobId, at);
    const running = this.#byJob.get(cancel.jobId);
    if (running === undefined || running.cancelledAt !== undefined) return;
    running.cancelledAt = at;
    // The local provider hears it through ctx.onAbort and stops the work, escalating after its grace.
    running.controller.abort(revive(cancel.reason), this.#listenerFailed);
  }

  /**
   * BullMQ could not renew these jobs' locks (Redis restarted, or was away longer than lockDuration).
   * The attempts go on: the coordinator sends a job that vanished again under the same key (it joins
   * the running attempt, or gets its kept outcome), and cancels an attempt it gave up.
   */
  lockLost(jobIds: readonly string[]): void {
    for (const id of jobIds) {
      if (this.#byJob.has(id)) this.#o.onEvent({ type: "error", error: new Error(`agent "${this.#o.id}" lost the lock of job ${id}; its attempt goes on`) });
    }
  }

  abortAll(reason: unknown): void {
    for (const running of this.#byKey.values()) running.controller.abort(reason, this.#listenerFailed);
  }

  async #process(job: Job): Promise<AttemptResult> {
    const jobId = job.id ?? "";
    const data = checkAttemptData(job.data);
    if (typeof data === "string") return { t: "refused", refusal: "version", message: `agent "${this.#o.id}" cannot read job ${jobId}: ${data}` };
    const cancelledAt = this.#cancels.get(jobId);
    if (cancelledAt !== undefined) {
      // Cancelled before it started: it never runs.
      this.#o.onEvent({ type: "cancel", jobId, stoppedAfterMs: performance.now() - cancelledAt });
      throw new UnrecoverableError(CANCELLED_JOB);
    }
    const done = this.#finished.get(data.key);
    if (done !== undefined) {
      this.#o.onEvent({ type: "attempt:start", jobId, taskId: data.taskId, attempt: data.attempt, kind: data.body.kind, duplicateOf: data.key });
      return done;
    }
    const same = this.#byKey.get(data.key);
    if (same !== undefined) {
      // A second delivery of an attempt running here: its body runs once; both jobs get its outcome.
      this.#byJob.set(jobId, same);
      this.#o.onEvent({ type: "attempt:start", jobId, taskId: data.taskId, attempt: data.attempt, kind: data.body.kind, duplicateOf: same.jobId });
      try {
        return await same.outcome;
      } finally {
        if (this.#byJob.get(jobId) === same) this.#byJob.delete(jobId);
      }
    }
    const controller = new AbortPoint();
    const log = new LogBatcher(
      (progress) => job.updateProgress(progress as unknown as object),
      (error) => this.#o.onEvent({ type: "error", error }),
    );
    const running: Running = { jobId, controller, cancelledAt: undefined, outcome: undefined as unknown as Promise<AttemptResult> };
    this.#byJob.set(jobId, running);
    this.#byKey.set(data.key, running);
    const start = performance.now();
    const event = { jobId, taskId: data.taskId, attempt: data.attempt };
    this.#o.onEvent({ type: "attempt:start", ...event, kind: data.body.kind });
    const ended = (outcome: AttemptOutcome, detail?: string): void =>
      this.#o.onEvent({ type: "attempt:end", ...event, outcome, ...(detail === undefined ? {} : { detail }), durationMs: performance.now() - start });
    (running as { outcome: Promise<AttemptResult> }).outcome = (async () => {
      let result: AttemptResult;
      try {
        result = await runAttempt({ options: this.#o, nodes: this.#nodes, data, controller, log });
      } catch (error) {
        result = { t: "threw", error: errorWire(error) }; // a fault of the agent's: still an outcome
      } finally {
        await log.close(); // every line before the result
        this.#byKey.delete(data.key);
        if (this.#byJob.get(jobId) === running) this.#byJob.delete(jobId);
      }
      if (running.cancelledAt !== undefined) {
        this.#o.onEvent({ type: "cancel", jobId, stoppedAfterMs: performance.now() - running.cancelledAt });
        ended("cancelled", "by its coordinator");
        throw new UnrecoverableError(CANCELLED_JOB);
      }
      if (controller.aborted) {
        const why = messageOf(controller.reason);
        ended("cancelled", why);
        throw new UnrecoverableError(`flotilla: attempt aborted on agent "${this.#o.id}": ${why}`);
      }
      this.#finished.add(data.key, result, result.t === "ok" ? (result.json?.length ?? 0) : 0);
      ended(
        result.t,
        result.t === "refused" ? `${result.refusal}: ${result.message}` : result.t === "threw" ? `${result.error.name}: ${result.error.message}` : undefined,
      );
      return result;
    })();
    return running.outcome;
  }
}
