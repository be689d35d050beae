/**
 * The recorder's records as trace events: names and sort orders for every process and thread, the job's
 * span, one complete event per attempt and per node life, the marks and the node counters, in time order.
 * Building never changes a record, so a trace can be taken mid-run and again later.
 */
import {
  type AttemptArgs,
  type AttemptSpan,
  type ChromeTrace,
  type TraceCounter,
  type TraceInstant,
  type JobSpan,
  type JobTraceStatus,
  type TraceMetadata,
  type NodeSpan,
  type TaskTrace,
  JOB_PID,
  JOB_TID,
  TRACE_FORMAT,
} from "./chrome-trace.ts";
import type { AttemptRecord, NodeLife, PoolTrack, TaskRecord } from "./trace-records.ts";

export interface TraceInput {
  readonly job: string;
  readonly status: JobTraceStatus;
  readonly startedAt: number;
  /** The end of the run (`job:end`), or the last event for a trace taken mid-run. */
  readonly endUs: number;
  readonly ended: boolean;
  readonly taskCount: number;
  readonly pools: readonly PoolTrack[];
  readonly tasks: readonly TaskRecord[];
  readonly dependsOn: (taskId: string) => readonly string[];
  readonly attempts: readonly AttemptRecord[];
  readonly lives: readonly NodeLife[];
  readonly marks: readonly TraceInstant[];
  readonly upCounts: readonly { pid: number; tid: number; ts: number; up: number }[];
}

export function buildTrace(input: TraceInput): ChromeTrace {
  const { endUs } = input;
  const timed: (AttemptSpan | NodeSpan | TraceInstant | TraceCounter)[] = [];
  for (const a of input.attempts) timed.push(attemptSpan(a, input));
  for (const life of input.lives) timed.push(nodeSpan(life, endUs));
  timed.push(...input.marks);
  for (const c of input.upCounts) timed.push({ ph: "C", name: "nodes", cat: "pool", pid: c.pid, tid: c.tid, ts: c.ts, args: { up: c.up } });
  timed.sort((x, y) => x.ts - y.ts); // stable: events at one moment keep the order they happened in

  const job: JobSpan = {
    ph: "X",
    name: input.job,
    cat: "job",
    pid: JOB_PID,
    tid: JOB_TID,
    ts: 0,
    dur: endUs,
    args: { job: input.job, status: input.status, tasks: input.taskCount },
  };
  return {
    traceEvents: [...metadata(input), job, ...timed],
    displayTimeUnit: "ms",
    otherData: {
      job: input.job,
      format: TRACE_FORMAT,
      status: input.status,
      startedAt: input.startedAt,
      makespanMs: endUs / 1000,
      tasks: input.tasks.map((t) => taskTrace(t, input.dependsOn(t.id))),
    },
  };
}

/** Process and thread names, and sort indexes so that pools follow the job and each node's lanes stay together, in order. */
function metadata(input: TraceInput): TraceMetadata[] {
  const out: TraceMetadata[] = [];
  const name = (kind: "process_name" | "thread_name", pid: number, tid: number, value: string) =>
    out.push({ ph: "M", name: kind, pid, tid, ts: 0, args: { name: value } });
  const sort = (kind: "process_sort_index" | "thread_sort_index", pid: number, tid: number, index: number) =>
    out.push({ ph: "M", name: kind, pid, tid, ts: 0, args: { sort_index: index } });
  name("process_name", JOB_PID, JOB_TID, `job ${input.job}`);
  sort("process_sort_index", JOB_PID, JOB_TID, 0);
  name("thread_name", JOB_PID, JOB_TID, "run");
  sort("thread_sort_index", JOB_PID, JOB_TID, 0);
  for (const pool of input.pools) {
    const first = pool.lifeLanes.lanes[0]?.tid ?? [...pool.nodes.values()][0]?.lanes.lanes[0]?.tid ?? 0;
    name("process_name", pool.pid, first, `pool ${pool.name}`);
    sort("process_sort_index", pool.pid, first, pool.pid);
    let index = 0;
    for (const lane of pool.lifeLanes.lanes) {
      name("thread_name", pool.pid, lane.tid, lane.number === 1 ? "nodes" : `nodes ${lane.number}`);
      sort("thread_sort_index", pool.pid, lane.tid, index++);
    }
    // (A map keeps insertion order, which is the nodes' order of first appearance.)
    for (const node of pool.nodes.values()) {
      for (const lane of node.lanes.lanes) {
        name("thread_name", pool.pid, lane.tid, `${node.id} slot ${lane.number}`);
        sort("thread_sort_index", pool.pid, lane.tid, index++);
      }
    }
  }
  return out;
}

function attemptSpan(a: AttemptRecord, input: TraceInput): AttemptSpan {
  const open = a.outcome === undefined;
  const endUs = open ? input.endUs : a.endUs;
  const args: AttemptArgs = {
    task: a.task,
    attempt: a.attempt,
    outcome: a.outcome ?? (input.ended ? "cancelled" : "running"),
    pool: a.node.pool.name,
    node: a.node.id,
    slots: a.slots,
    dependsOn: input.dependsOn(a.task),
    ...(a.readyUs === undefined ? {} : { readyMs: a.readyUs / 1000 }),
    ...(a.error === undefined ? {} : { error: a.error }),
    ...(a.errorCode === undefined ? {} : { errorCode: a.errorCode }),
    ...(a.abortedUs === undefined ? {} : { abortedMs: a.abortedUs / 1000 }),
  };
  return { ph: "X", name: a.task, cat: "attempt", pid: a.node.pool.pid, tid: a.lane.tid, ts: a.startUs, dur: Math.max(0, endUs - a.startUs), args };
}

function nodeSpan(life: NodeLife, endUs: number): NodeSpan {
  const end = life.end === "running" ? endUs : life.endUs;
  return {
    ph: "X",
    name: life.node.id,
    cat: "node",
    pid: life.node.pool.pid,
    tid: life.lane.tid,
    ts: life.startUs,
    dur: Math.max(0, end - life.startUs),
    args: {
      pool: life.node.pool.name,
      node: life.node.id,
      slots: Number.isFinite(life.slots) ? life.slots : "unlimited",
      priority: life.priority,
      end: life.end,
      ...(life.error === undefined ? {} : { error: life.error }),
    },
  };
}

function taskTrace(t: TaskRecord, dependsOn: readonly string[]): TaskTrace {
  return {
    id: t.id,
    status: t.status,
    attempts: t.attempts,
    dependsOn,
    ...(t.restored ? { restored: true as const } : {}),
    ...(t.error === undefined ? {} : { error: t.error }),
    ...(t.errorCode === undefined ? {} : { errorCode: t.errorCode }),
  };
}
