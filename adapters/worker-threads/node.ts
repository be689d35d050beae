/**
 * One node of `workerThreads()`: a worker thread, started when the node starts, terminated when it is
 * idle too long or when a cancelled body ignores its signal, and started again when next used.
 *
 * Attempts are not posted one by one: `run` appends a record to an outbox and the outbox goes out in
 * one message at the end of the current microtask burst, so the many attempts an executor dispatches
 * together (or a finished batch frees) cost one structured clone and one message. The worker replies
 * the same way.
 *
 * Cancellation is heard through `ctx.onAbort`, not `ctx.signal`: reading the signal makes the attempt
 * build an AbortController (about 2 µs in Node 20) and listening on it costs about as much again,
 * more than the whole rest of a tiny task's way through the provider.
 */
import { Worker } from "node:worker_threads";
import { messageOf } from "../../src/errors.ts";
import { nodeLostError, nodeStoppedError, type StartedNodes } from "../../src/provider-kit/index.ts";
import type { NodeReport, ProviderNode } from "../../src/provider.ts";
import type { TaskContext } from "../../src/task-context.ts";
import { MAX_TIMER_MS } from "../../src/validation.ts";
import { ThreadAttempt, type AttemptNode } from "./attempt.ts";
import { failureError, inputError, reviveError, threadStartError } from "./errors.ts";
import type { ResolvedOptions } from "./options.ts";
import type { WorkerTaskSpec } from "./spec.ts";
import { THREAD_SCRIPT } from "./thread-script.ts";
import { ABORT, DEFINE, FAILED, LOADED, LOG, OK, RECORD_LENGTH, RUN, SKIP, THREW, toErrorWire, type ErrorWire, type FailureWire } from "./wire.ts";

/**
 * Schedules the outbox's flush at the end of the microtask burst. Cheaper than `queueMicrotask`, which
 * in Node wraps every callback in an AsyncResource; the flush never throws.
 */
const RESOLVED = Promise.resolve();

/** What a node needs from its provider. */
export interface ThreadHost {
  readonly options: ResolvedOptions;
  /** The provider's nodes: a node whose thread died marks itself lost there. */
  readonly nodes: StartedNodes<ThreadNode>;
  /** A small integer per (module, export), the same for every node of the provider. */
  fnId(spec: WorkerTaskSpec): number;
  nextCallId(): number;
}

/** Longest wait for a terminated thread to exit when a node stops (see `stop`). */
const STOP_WAIT_MS = 1_000;

export class ThreadNode implements ProviderNode, AttemptNode {
  readonly id: string;
  readonly slots: number;
  /** @internal */
  readonly host: ThreadHost;

  readonly #report: NodeReport | undefined;
  readonly #flush = (): void => this.#post();
  #worker: Worker | undefined = undefined;
  /** Function ids the current worker has been told about. */
  readonly #defined = new Set<number>();
  /** Function ids the current worker has reported loaded (LOADED): bodies of them may be running. */
  readonly #loaded = new Set<number>();
  /** Every attempt on this node that has not settled, queued or posted. */
  readonly #calls = new Map<number, ThreadAttempt>();
  #out: unknown[] = [];
  #batch = 0;
  #flushQueued = false;
  #idleSince = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Resolves when each worker this node started has exited. */
  readonly #exits = new Set<Promise<void>>();

  constructor(host: ThreadHost, id: string, report: NodeReport | undefined) {
    this.host = host;
    this.id = id;
    this.slots = host.options.tasksPerThread;
    this.#report = report;
    this.#becameIdle(this.#spawn());
  }

  /**
   * Runs one attempt; rejects with the signal's reason when cancelled, NodeLostError when the thread
   * died. (The provider calls it only while the node is live: see StartedNodes.)
   */
  run(spec: WorkerTaskSpec, ctx: TaskContext<any>): Promise<unknown> {
    let worker = this.#worker;
    if (worker === undefined) {
      try {
        worker = this.#spawn();
      } catch (error) {
        return Promise.reject(threadStartError(this.id, ctx.taskId, error));
      }
    }
    const fnId = this.host.fnId(spec);
    const call = new ThreadAttempt(this.host.nextCallId(), this, spec, ctx, fnId, this.host.options.terminateGraceMs);
    if (this.#calls.size === 0) worker.ref();
    this.#calls.set(call.id, call);
    const out = this.#out;
    if (!this.#defined.has(fnId)) {
      this.#defined.add(fnId);
      out.push(DEFINE, fnId, spec.module, spec.export);
    }
    call.batch = this.#batch;
    call.at = out.length;
    // Empty deps are not sent: the worker gives the body a shared empty object.
    const deps = ctx.deps;
    let sent: unknown;
    for (const _ in deps) {
      sent = deps;
      break;
    }
    // Errors of dependencies that failed with onFailure "satisfy", as cloneable descriptions; in an
    // object without a prototype, where a dependency called "__proto__" is a key like any other.
    const failures = ctx.failures;
    let failed: Record<string, ErrorWire> | undefined;
    for (const id in failures) (failed ??= Object.create(null) as Record<string, ErrorWire>)[id] = toErrorWire(failures[id]);
    out.push(RUN, call.id, fnId, spec.input, sent, failed, ctx.attempt, ctx.taskId);
    this.#queueFlush();
    // Last: an attempt aborted already is dropped from the outbox at once.
    call.grace.watch(ctx);
    return call.outcome.promise;
  }

  /** The attempt was aborted: drop it if not posted yet, else abort it in the worker (its grace runs from now). */
  abort(call: ThreadAttempt): void {
    if (this.#calls.get(call.id) !== call) return;
    if (call.batch === this.#batch) {
      const out = this.#out;
      out[call.at] = SKIP;
      out[call.at + 3] = undefined;
      out[call.at + 4] = undefined;
      out[call.at + 5] = undefined;
      this.#settled(call);
      call.outcome.reject(call.grace.reason);
      return;
    }
    this.#out.push(ABORT, call.id, toErrorWire(call.grace.reason));
    this.#queueFlush();
  }

  /** The current worker loaded function `fnId`: its aborted attempts' bodies may start now, and their graces with them. */
  #functionLoaded(fnId: number): void {
    this.#loaded.add(fnId);
    for (const call of this.#calls.values()) {
      if (call.grace.aborted && call.fnId === fnId) call.grace.restart();
    }
  }

  /** Terminates the thread and waits until every thread this node started has exited. */
  async stop(): Promise<void> {
    this.#clearIdleTimer();
    this.#rejectAll((call) => nodeStoppedError(this.id, call.ctx, `its workerTask (export "${call.spec.export}")`, "its worker thread was terminated"));
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker !== undefined) terminate(worker);
    // terminate() cannot interrupt a thread blocked in a system call (a sync read of a FIFO, execSync):
    // such a thread is waited for at most STOP_WAIT_MS, so the run still ends; it exits on its own later.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(STOP_WAIT_MS, this.host.options.terminateGraceMs));
      (timer as { unref?: () => void }).unref?.();
    });
    await Promise.race([Promise.all(this.#exits), bound]);
    clearTimeout(timer);
  }

  #spawn(): Worker {
    const o = this.host.options;
    const init: ConstructorParameters<typeof Worker>[1] = { eval: true };
    if (o.resourceLimits !== undefined) init.resourceLimits = o.resourceLimits;
    if (o.env !== undefined) init.env = o.env;
    if (o.argv !== undefined) init.argv = [...o.argv];
    if (o.execArgv !== undefined) init.execArgv = [...o.execArgv];
    const worker = new Worker(THREAD_SCRIPT, init);
    this.#worker = worker;
    this.#defined.clear();
    this.#loaded.clear();
    const exit = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    this.#exits.add(exit);
    void exit.then(() => this.#exits.delete(exit));
    worker.on("message", (batch: unknown[]) => this.#received(worker, batch));
    worker.on("error", (error: unknown) => this.#died(worker, `crashed: ${messageOf(error)}`, error));
    worker.on("exit", (code: number) => this.#died(worker, `exited with code ${code}`, undefined));
    return worker;
  }

  /** Sends the outbox as one message. */
  #post(): void {
    this.#flushQueued = false;
    this.#batch++;
    const out = this.#out;
    if (out.length === 0) return;
    this.#out = [];
    const worker = this.#worker;
    if (worker === undefined) return; // its calls were settled when the thread went away
    try {
      worker.postMessage(out);
    } catch (error) {
      this.#postOneByOne(worker, out, error);
    }
  }

  /** Something in a batch did not clone: post control records together, then each attempt on its own. */
  #postOneByOne(worker: Worker, out: unknown[], batchError: unknown): void {
    const control: unknown[] = [];
    const runs: number[] = [];
    for (let i = 0; i < out.length; i += RECORD_LENGTH[out[i] as 0 | 1 | 2 | 3]) {
      if (out[i] === RUN) runs.push(i);
      else if (out[i] !== SKIP) for (let k = 0; k < RECORD_LENGTH[out[i] as 0 | 3]; k++) control.push(out[i + k]);
    }
    if (control.length > 0) worker.postMessage(control);
    for (const i of runs) {
      const record = out.slice(i, i + RECORD_LENGTH[RUN]);
      try {
        worker.postMessage(record);
      } catch (error) {
        const call = this.#calls.get(record[1] as number);
        if (call === undefined) continue;
        this.#settled(call);
        call.outcome.reject(call.grace.aborted ? call.grace.reason : inputError(call.ctx.taskId, call.spec, record[3], record[4], error ?? batchError));
      }
    }
  }

  /** A batch of replies: `[callId, status, value]` triples (and `[fnId, LOADED, undefined]`). */
  #received(worker: Worker, batch: unknown[]): void {
    // A replaced thread's late messages: its calls were settled when it went, and its LOADEDs are not the new thread's.
    if (worker !== this.#worker) return;
    const calls = this.#calls;
    for (let i = 0; i < batch.length; i += 3) {
      const status = batch[i + 1];
      if (status === LOADED) {
        this.#functionLoaded(batch[i] as number);
        continue;
      }
      const call = calls.get(batch[i] as number);
      if (call === undefined) continue; // settled already (e.g. cancelled before it was posted)
      const value = batch[i + 2];
      if (status === LOG) {
        call.ctx.log(value as string);
        continue;
      }
      this.#settled(call);
      const outcome = call.outcome;
      if (call.grace.aborted) outcome.reject(call.grace.reason);
      else if (status === OK) outcome.resolve(value);
      else if (status === THREW) outcome.reject(reviveError(value as ErrorWire));
      else if (status === FAILED) outcome.reject(failureError(call.ctx.taskId, call.spec, value as FailureWire));
    }
  }

  /** Posts the outbox at the end of the current microtask burst (once, however many records join it). */
  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    RESOLVED.then(this.#flush);
  }

  /** The call has its outcome: it leaves the node, and stops listening for its abort. */
  #settled(call: ThreadAttempt): void {
    this.#calls.delete(call.id);
    call.grace.release();
    if (this.#calls.size === 0 && this.#worker !== undefined) this.#becameIdle(this.#worker);
  }

  /** The thread exited or crashed without being asked: the node is lost, with every attempt on it. */
  #died(worker: Worker, what: string, cause: unknown): void {
    if (worker !== this.#worker) return; // terminated on purpose, or already handled
    this.#worker = undefined;
    this.host.nodes.markLost(this);
    this.#clearIdleTimer();
    const told = this.#rejectAll((call) => nodeLostError(this.id, call.ctx, `its worker thread ${what}`, cause));
    if (!told) this.#report?.lost(nodeLostError(this.id, undefined, `its worker thread ${what}`, cause));
  }

  /** A cancelled body ignored its signal past the grace: terminate its thread; the next attempt starts a fresh one. */
  graceExpired(call: ThreadAttempt): void {
    const worker = this.#worker;
    if (this.#calls.get(call.id) !== call || worker === undefined) return;
    if (call.renewsGrace(this.#loaded.has(call.fnId), this.#someRunning)) {
      call.grace.restart(); // its body has not started, and others would be lost: look again later
      return;
    }
    this.#worker = undefined;
    this.#clearIdleTimer();
    terminate(worker);
    const grace = this.host.options.terminateGraceMs;
    this.#rejectAll((other) =>
      nodeLostError(this.id, other.ctx, `its worker thread was terminated because task "${call.ctx.taskId}" ignored its abort signal for ${grace} ms`),
    );
  }

  /** Whether some attempt on the thread is not aborted. */
  readonly #someRunning = (): boolean => {
    for (const call of this.#calls.values()) if (!call.grace.aborted) return true;
    return false;
  };

  /** Rejects every call (aborted ones with their signal's reason). Returns whether any got `lost`'s error. */
  #rejectAll(lost: (call: ThreadAttempt) => Error): boolean {
    this.#out = [];
    this.#batch++;
    if (this.#calls.size === 0) return false;
    const calls = [...this.#calls.values()];
    this.#calls.clear();
    let told = false;
    for (const call of calls) {
      call.grace.release();
      if (call.grace.aborted) {
        call.outcome.reject(call.grace.reason);
      } else {
        told = true;
        call.outcome.reject(lost(call));
      }
    }
    return told;
  }

  /**
   * No attempt on the thread: it no longer keeps the process alive (only a run waiting on it should),
   * and it is terminated if it stays idle for `idleTimeoutMs`. One timer serves many idle spells.
   */
  #becameIdle(worker: Worker): void {
    worker.unref();
    const idleMs = this.host.options.idleTimeoutMs;
    if (idleMs === Infinity) return;
    this.#idleSince = Date.now();
    if (this.#idleTimer === undefined) this.#armIdle(idleMs);
  }

  #armIdle(ms: number): void {
    this.#idleTimer = setTimeout(() => this.#idleCheck(), Math.min(ms, MAX_TIMER_MS));
    (this.#idleTimer as { unref?: () => void }).unref?.();
  }

  #idleCheck(): void {
    this.#idleTimer = undefined;
    const worker = this.#worker;
    if (worker === undefined || this.#calls.size > 0) return;
    const left = this.#idleSince + this.host.options.idleTimeoutMs - Date.now();
    if (left > 0) {
      this.#armIdle(left);
      return;
    }
    this.#worker = undefined;
    terminate(worker);
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}

function terminate(worker: Worker): void {
  void Promise.resolve(worker.terminate()).catch(() => {});
}
