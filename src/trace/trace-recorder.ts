/**
 * Turns a run's events into a trace (chrome-trace.ts): feed it every event of the run, in order, then
 * call `finish()`. Runtime-neutral and passive: it never throws on an event and never keeps the run alive.
 *
 * Lanes: an attempt goes on the lowest-numbered free lane of its node. An aborted attempt (cancelled, timed
 * out) keeps its slot until its body settles, which no event reports, so its lane stays taken until it is
 * abandoned, its node goes, or a new attempt would not fit on the node unless it had settled: then the
 * oldest aborted attempt is taken to have settled. Its span ends when it was aborted either way; only an
 * abandonment extends it (the slot was held to the end of the grace period).
 */
import { FlotillaError, describe, isFlotillaError, messageOf } from "../errors.ts";
import type { RunEvent, RunEvents } from "../events.ts";
import { type AttemptOutcome, type ChromeTrace, type TraceInstant, JOB_PID, JOB_TID, type JobTraceStatus, type NodeArgs } from "./chrome-trace.ts";
import { LaneSet } from "./lanes.ts";
import { buildTrace } from "./trace-output.ts";
import type { AttemptRecord, NodeLife, NodeTrack, PoolTrack, TaskRecord } from "./trace-records.ts";

/**
 * Records one run as a Chrome trace (Perfetto UI and chrome://tracing open it).
 *
 * @example
 * const recorder = new TraceRecorder(job.name, (id) => deps[id] ?? []);
 * const handle = start(job);
 * for await (const event of handle) recorder.record(event);
 * const trace = recorder.finish();          // JSON.stringify(trace) is a .json trace file
 */
export class TraceRecorder {
  readonly #job: string;
  readonly #dependsOn: (taskId: string) => readonly string[];
  #origin: number | undefined = undefined;
  #startedAt = 0;
  #lastUs = 0;
  #endUs: number | undefined = undefined;
  #status: JobTraceStatus = "running";
  #taskCount = 0;
  #nextTid = JOB_TID + 1;
  readonly #pools = new Map<string, PoolTrack>();
  readonly #tasks = new Map<string, TaskRecord>();
  readonly #deps = new Map<string, readonly string[]>();
  readonly #ready = new Map<string, number>();
  readonly #attempts: AttemptRecord[] = [];
  /** The attempt of each task that runs now (undecided). */
  readonly #running = new Map<string, AttemptRecord>();
  /** Aborted attempts by task and attempt number, for `task:abandoned`. */
  readonly #aborted = new Map<string, AttemptRecord>();
  readonly #lives: NodeLife[] = [];
  readonly #marks: TraceInstant[] = [];
  readonly #upCounts: { pid: number; tid: number; ts: number; up: number }[] = [];

  /**
   * @param job the job's name (the trace's title).
   * @param dependsOn the dependencies of a task, by id (written into each attempt's args and used by
   *   `criticalPath`). Called once per task.
   */
  constructor(job: string, dependsOn: (taskId: string) => readonly string[]) {
    if (typeof job !== "string" || job.length === 0) {
      throw new FlotillaError("E_INVALID_OPTION", `new TraceRecorder(job, dependsOn): "job" must be a non-empty string, received ${describe(job)}`);
    }
    if (typeof dependsOn !== "function") {
      throw new FlotillaError(
        "E_INVALID_OPTION",
        `new TraceRecorder(job, dependsOn): "dependsOn" must be a function (taskId) => string[], received ${describe(dependsOn)}`,
      );
    }
    this.#job = job;
    this.#dependsOn = dependsOn;
  }

  /** Takes one event of the run. Events it has no use for (`task:output`, `node:idle`) are ignored. */
  record(event: RunEvent): void {
    if (typeof event !== "object" || event === null) return;
    const us = this.#us(event.at);
    switch (event.type) {
      case "job:start":
        this.#taskCount = typeof event.tasks === "number" ? event.tasks : 0;
        return;
      case "job:end":
        this.#endUs = us;
        this.#status = event.status;
        return;
      case "task:ready":
        this.#ready.set(event.taskId, us);
        this.#task(event.taskId).status = "ready";
        return;
      case "task:start":
        this.#start(event, us);
        return;
      case "task:retry":
        this.#attemptFailed(event.taskId, event.error, us, "retry", { delayMs: event.delayMs });
        return;
      case "task:failed":
        this.#attemptFailed(event.taskId, event.error, us, "failed", {});
        return;
      case "task:succeeded":
        this.#succeeded(event, us);
        return;
      case "task:cancelled":
        this.#cancelled(event.taskId, event.error, us);
        return;
      case "task:skipped": {
        const task = this.#task(event.taskId);
        task.status = "skipped";
        this.#setError(task, event.error);
        return;
      }
      case "task:requeued":
        this.#requeued(event.taskId, event.error, us);
        return;
      case "task:abandoned":
        this.#abandoned(event.taskId, event.attempt, us);
        return;
      case "node:start":
        this.#nodeStarted(event, us);
        return;
      case "node:stop":
        this.#nodeEnded(event.pool, event.nodeId, "stop", undefined, us);
        return;
      case "node:lost":
        this.#nodeEnded(event.pool, event.nodeId, "lost", event.error, us);
        return;
      case "node:preempted":
        this.#nodeEnded(event.pool, event.nodeId, "preempted", event.error, us);
        return;
      case "pool:resize": {
        const args = { pool: event.pool, dedicated: event.dedicated, lowPriority: event.lowPriority, reason: String(event.reason) };
        this.#poolMark(event.pool, "resize", us, args);
        return;
      }
      case "provider:error": {
        const args = {
          pool: event.pool,
          operation: event.operation,
          error: messageOf(event.error),
          ...(event.nodeId === undefined ? {} : { node: event.nodeId }),
        };
        this.#poolMark(event.pool, "provider error", us, args);
        return;
      }
    }
  }

  /**
   * The trace so far: complete once `job:end` was recorded. Taken earlier, attempts still running end
   * at the last event with outcome "running" (nothing recorded is changed: record on and finish again).
   */
  finish(): ChromeTrace {
    const ended = this.#endUs !== undefined;
    const endUs = this.#endUs ?? this.#lastUs;
    return buildTrace({
      job: this.#job,
      status: this.#status,
      startedAt: this.#startedAt,
      endUs,
      ended,
      taskCount: Math.max(this.#taskCount, this.#tasks.size),
      pools: [...this.#pools.values()],
      tasks: [...this.#tasks.values()],
      dependsOn: (id) => this.#dependenciesOf(id),
      attempts: this.#attempts,
      lives: this.#lives,
      marks: this.#marks,
      upCounts: this.#upCounts,
    });
  }

  // ---- attempts ----

  #start(event: RunEvents["task:start"], us: number): void {
    const pool = this.#pool(event.pool);
    const node = this.#node(pool, event.nodeId);
    const slots = Number.isFinite(event.slots) && event.slots > 0 ? event.slots : 1;
    // A new attempt that would not fit beside the aborted ones means one of them has settled.
    while (node.held + slots > node.capacity && this.#settleOldestAborted(node)) {}
    const readyUs = this.#ready.get(event.taskId);
    this.#ready.delete(event.taskId);
    const lane = node.lanes.claim();
    const record: AttemptRecord = (lane.occupant = {
      task: event.taskId,
      attempt: event.attempt,
      node,
      slots,
      startUs: us,
      readyUs,
      lane,
      outcome: undefined,
      endUs: us,
      error: undefined,
      errorCode: undefined,
      windingDown: false,
      abortedUs: undefined,
    });
    node.held += slots;
    this.#attempts.push(record);
    this.#running.set(event.taskId, record);
    const task = this.#task(event.taskId);
    task.status = "running";
    task.attempts = Math.max(task.attempts, event.attempt);
    this.#dependenciesOf(event.taskId);
  }

  /** The running attempt of `taskId` failed: it will be retried (`retry`) or the task failed (`failed`). */
  #attemptFailed(taskId: string, error: unknown, us: number, kind: "retry" | "failed", extra: { delayMs?: number }): void {
    const task = this.#task(taskId);
    task.status = kind === "retry" ? "retrying" : "failed";
    if (kind === "failed") this.#setError(task, error);
    const record = this.#running.get(taskId);
    const timedOut = isOwnTimeout(error, taskId);
    if (record !== undefined) this.#end(record, us, timedOut ? "timeout" : kind, error, timedOut);
    if (kind === "retry" || record === undefined) {
      const args = { task: taskId, ...(record ? { attempt: record.attempt } : {}), ...extra, error: messageOf(error) };
      this.#mark(record, kind === "retry" ? "retry" : "failed", us, args);
    }
  }

  #succeeded(event: RunEvents["task:succeeded"], us: number): void {
    const task = this.#task(event.taskId);
    task.status = "succeeded";
    task.error = task.errorCode = undefined;
    if ((event as { restored?: unknown }).restored === true) {
      // Restored from a journal: it succeeded in an earlier run and takes no time in this one.
      task.restored = true;
      this.#mark(undefined, "restored", us, { task: event.taskId, attempt: event.attempt });
      return;
    }
    const record = this.#running.get(event.taskId);
    if (record !== undefined) this.#end(record, us, "succeeded", undefined, false);
  }

  #cancelled(taskId: string, error: unknown, us: number): void {
    const task = this.#task(taskId);
    task.status = "cancelled";
    this.#setError(task, error);
    const record = this.#running.get(taskId);
    if (record !== undefined) this.#end(record, us, "cancelled", error, true);
    this.#mark(record, "cancelled", us, { task: taskId, ...(record ? { attempt: record.attempt } : {}), error: messageOf(error) });
  }

  #requeued(taskId: string, error: unknown, us: number): void {
    const record = this.#running.get(taskId);
    if (record !== undefined) this.#end(record, us, "requeued", error, false);
    this.#mark(record, "requeued", us, { task: taskId, ...(record ? { attempt: record.attempt } : {}), error: messageOf(error) });
  }

  #abandoned(taskId: string, attempt: number, us: number): void {
    const record = this.#aborted.get(abortKey(taskId, attempt));
    if (record === undefined) return;
    this.#aborted.delete(abortKey(taskId, attempt));
    record.outcome = "abandoned";
    if (record.windingDown) {
      // It held its slot until now: the span runs on to the abandonment.
      record.abortedUs = record.endUs;
      record.endUs = us;
      this.#free(record);
    }
    this.#mark(record, "abandoned", us, { task: taskId, attempt });
  }

  /** Attempt `record` ended; an aborted one (`windingDown`) keeps its lane until it settles or is abandoned. */
  #end(record: AttemptRecord, us: number, outcome: AttemptOutcome, error: unknown, windingDown: boolean): void {
    this.#running.delete(record.task);
    record.outcome = outcome;
    record.endUs = us;
    if (error !== undefined) {
      record.error = messageOf(error);
      record.errorCode = codeOf(error);
    }
    if (windingDown) {
      record.windingDown = true;
      this.#aborted.set(abortKey(record.task, record.attempt), record);
    } else this.#free(record);
  }

  #free(record: AttemptRecord): void {
    record.windingDown = false;
    if (record.lane.occupant !== record) return;
    record.node.lanes.release(record.lane);
    record.node.held -= record.slots;
  }

  /** Frees the lane of the aborted attempt on `node` that ended first; false when there is none. */
  #settleOldestAborted(node: NodeTrack): boolean {
    let oldest: AttemptRecord | undefined;
    for (const lane of node.lanes.lanes) {
      const a = lane.occupant;
      if (a?.windingDown && (oldest === undefined || a.endUs < oldest.endUs)) oldest = a;
    }
    if (oldest === undefined) return false;
    this.#free(oldest);
    return true;
  }

  // ---- nodes and pools ----

  #nodeStarted(event: RunEvents["node:start"], us: number): void {
    const pool = this.#pool(event.pool);
    const node = this.#node(pool, event.nodeId);
    node.capacity = typeof event.slots === "number" && event.slots > 0 ? event.slots : Infinity;
    const lane = pool.lifeLanes.claim();
    const life: NodeLife = (lane.occupant = {
      node,
      startUs: us,
      slots: node.capacity,
      priority: String(event.priority),
      lane,
      end: "running",
      endUs: us,
      error: undefined,
    });
    node.life = life;
    this.#lives.push(life);
    this.#upCounts.push({ pid: pool.pid, tid: pool.lifeLanes.first().tid, ts: us, up: ++pool.up });
  }

  #nodeEnded(poolName: string, nodeId: string, end: NodeArgs["end"], error: unknown, us: number): void {
    const pool = this.#pool(poolName);
    const node = this.#node(pool, nodeId);
    // Its aborted attempts are released with it.
    for (const lane of node.lanes.lanes) if (lane.occupant?.windingDown) this.#free(lane.occupant);
    const life = node.life;
    if (life === undefined) return;
    node.life = undefined;
    life.end = end;
    life.endUs = us;
    if (end !== "stop") life.error = messageOf(error);
    pool.lifeLanes.release(life.lane);
    this.#upCounts.push({ pid: pool.pid, tid: pool.lifeLanes.first().tid, ts: us, up: --pool.up });
    if (end !== "stop") {
      this.#marks.push(instant(`node ${end}`, "node", pool.pid, life.lane.tid, us, { pool: poolName, node: nodeId, error: life.error ?? "" }));
    }
  }

  #poolMark(poolName: string, name: string, us: number, args: TraceInstant["args"]): void {
    const pool = this.#pool(poolName);
    this.#marks.push(instant(name, "pool", pool.pid, pool.lifeLanes.first().tid, us, args));
  }

  #pool(name: string): PoolTrack {
    let pool = this.#pools.get(name);
    if (pool === undefined) {
      pool = { name, pid: JOB_PID + 1 + this.#pools.size, nodes: new Map(), lifeLanes: new LaneSet(this.#newTid), up: 0 };
      this.#pools.set(name, pool);
    }
    return pool;
  }

  #node(pool: PoolTrack, id: string): NodeTrack {
    let node = pool.nodes.get(id);
    if (node === undefined) {
      node = { pool, id, order: pool.nodes.size, lanes: new LaneSet(this.#newTid), capacity: Infinity, held: 0, life: undefined };
      pool.nodes.set(id, node);
    }
    return node;
  }

  readonly #newTid = (): number => this.#nextTid++;

  // ---- tasks, marks, time ----

  #task(id: string): TaskRecord {
    let task = this.#tasks.get(id);
    if (task === undefined) {
      task = { id, status: "pending", attempts: 0, restored: false, error: undefined, errorCode: undefined };
      this.#tasks.set(id, task);
    }
    return task;
  }

  #setError(task: TaskRecord, error: unknown): void {
    task.error = messageOf(error);
    task.errorCode = codeOf(error);
  }

  #dependenciesOf(id: string): readonly string[] {
    let deps = this.#deps.get(id);
    if (deps === undefined) {
      try {
        deps = Array.from(this.#dependsOn(id) ?? [], String);
      } catch {
        deps = []; // a dependsOn that throws costs the trace its edges, never the run
      }
      this.#deps.set(id, deps);
    }
    return deps;
  }

  /** A mark on the lane of `record`, or on the job's thread when there is no attempt. */
  #mark(record: AttemptRecord | undefined, name: string, us: number, args: TraceInstant["args"]): void {
    if (record === undefined) this.#marks.push(instant(name, "task", JOB_PID, JOB_TID, us, args));
    else this.#marks.push(instant(name, "task", record.node.pool.pid, record.lane.tid, us, args));
  }

  /** Microseconds since the run's start (the first event, normally `job:start`), whole. */
  #us(at: number): number {
    if (typeof at !== "number" || !Number.isFinite(at)) return this.#lastUs;
    if (this.#origin === undefined) {
      this.#origin = at;
      this.#startedAt = at;
    }
    const us = Math.max(0, Math.round((at - this.#origin) * 1000));
    if (us > this.#lastUs) this.#lastUs = us;
    return us;
  }
}

function instant(name: string, cat: TraceInstant["cat"], pid: number, tid: number, ts: number, args: TraceInstant["args"]): TraceInstant {
  return { ph: "i", name, cat, pid, tid, ts, s: "t", args };
}

function abortKey(taskId: string, attempt: number): string {
  return `${attempt}\u0000${taskId}`;
}

/** The attempt's own timeout (not a TimeoutError its body rethrew from a nested run). */
function isOwnTimeout(error: unknown, taskId: string): boolean {
  try {
    return isFlotillaError(error, "E_TIMEOUT") && (error as { taskId?: unknown }).taskId === taskId;
  } catch {
    return false;
  }
}

function codeOf(error: unknown): string | undefined {
  try {
    return isFlotillaError(error) ? String(error.code) : undefined;
  } catch {
    return undefined;
  }
}
