/**
 * A trace read back into what the report needs: attempts, the lanes they ran on (in the trace's order),
 * node lives, and every task's final state. The trace may come from a file, so nothing is trusted: an
 * event of the wrong shape is left out, never a reason to fail (only a value that is no trace at all is).
 */
import { FlotillaError, describe } from "../errors.ts";
import { ATTEMPT_OUTCOMES, type AttemptOutcome, type ChromeTrace, type NodeArgs, type TaskTrace, type TaskTraceStatus } from "../trace/chrome-trace.ts";

export interface AttemptBar {
  readonly task: string;
  readonly attempt: number;
  readonly outcome: AttemptOutcome;
  readonly pool: string;
  readonly node: string;
  readonly pid: number;
  readonly tid: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly slots: number;
  readonly dependsOn: readonly string[];
  readonly readyMs: number | undefined;
  readonly error: string | undefined;
}

export interface LaneRow {
  readonly pid: number;
  readonly tid: number;
  readonly name: string;
  readonly pool: string;
  readonly node: string;
}

export interface NodeLifeBar {
  readonly pid: number;
  readonly pool: string;
  readonly node: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly end: NodeArgs["end"];
  readonly error: string | undefined;
}

export interface TraceModel {
  readonly job: string;
  readonly status: string;
  readonly makespanMs: number;
  /** In start order. */
  readonly attempts: readonly AttemptBar[];
  /** The lanes attempts ran on, pool by pool, each node's lanes together, as the trace sorts them. */
  readonly lanes: readonly LaneRow[];
  readonly nodes: readonly NodeLifeBar[];
  /** Pool names, in the trace's order. */
  readonly pools: readonly string[];
  readonly tasks: readonly TaskTrace[];
}

const OUTCOMES: ReadonlySet<string> = new Set(ATTEMPT_OUTCOMES);

/** Reads `trace`; `where` names the caller in the error for a value that is not a trace. */
export function readTrace(trace: ChromeTrace, where: string): TraceModel {
  const events: unknown = (trace as { traceEvents?: unknown } | null)?.traceEvents;
  if (typeof trace !== "object" || trace === null || !Array.isArray(events)) {
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `${where}: the trace must be a ChromeTrace (an object with a "traceEvents" array, as result.trace or TraceRecorder.finish() give), received ${describe(trace)}`,
    );
  }
  const threadNames = new Map<string, string>();
  const threadSort = new Map<string, number>();
  const processSort = new Map<number, number>();
  const attempts: AttemptBar[] = [];
  const nodes: NodeLifeBar[] = [];
  let job: { name: string; status: string; durMs: number } | undefined;
  for (const e of events as unknown[]) {
    if (typeof e !== "object" || e === null) continue;
    const ev = e as Record<string, unknown>;
    const args = (typeof ev.args === "object" && ev.args !== null ? ev.args : {}) as Record<string, unknown>;
    const pid = num(ev.pid);
    const tid = num(ev.tid);
    if (ev.ph === "M") {
      const key = `${pid}/${tid}`;
      if (ev.name === "thread_name" && typeof args.name === "string") threadNames.set(key, args.name);
      else if (ev.name === "thread_sort_index") threadSort.set(key, num(args.sort_index));
      else if (ev.name === "process_sort_index") processSort.set(pid, num(args.sort_index));
      continue;
    }
    if (ev.ph !== "X") continue;
    const startMs = num(ev.ts) / 1000;
    const endMs = startMs + Math.max(0, num(ev.dur)) / 1000;
    if (ev.cat === "attempt" && typeof args.task === "string") {
      attempts.push({
        task: args.task,
        attempt: num(args.attempt) || 1,
        outcome: OUTCOMES.has(String(args.outcome)) ? (args.outcome as AttemptOutcome) : "running",
        pool: str(args.pool),
        node: str(args.node),
        pid,
        tid,
        startMs,
        endMs,
        slots: num(args.slots) || 1,
        dependsOn: strings(args.dependsOn),
        readyMs: typeof args.readyMs === "number" ? args.readyMs : undefined,
        error: typeof args.error === "string" ? args.error : undefined,
      });
    } else if (ev.cat === "node") {
      const end = ["stop", "lost", "preempted", "running"].includes(String(args.end)) ? (args.end as NodeArgs["end"]) : "stop";
      nodes.push({
        pid,
        pool: str(args.pool),
        node: str(args.node ?? ev.name),
        startMs,
        endMs,
        end,
        error: typeof args.error === "string" ? args.error : undefined,
      });
    } else if (ev.cat === "job") {
      job = { name: str(args.job ?? ev.name), status: str(args.status), durMs: endMs - startMs };
    }
  }
  attempts.sort((a, b) => a.startMs - b.startMs);
  const info = ((trace as unknown as { otherData?: unknown }).otherData ?? {}) as Record<string, unknown>;
  const tasks = Array.isArray(info.tasks) ? (info.tasks as unknown[]).filter(isTaskTrace) : tasksFrom(attempts);
  const lastEnd = attempts.reduce((max, a) => Math.max(max, a.endMs), 0);
  return {
    job: str(info.job ?? job?.name),
    status: str(info.status ?? job?.status) || "unknown",
    makespanMs: typeof info.makespanMs === "number" ? info.makespanMs : (job?.durMs ?? lastEnd),
    attempts,
    lanes: lanesOf(attempts, threadNames, threadSort, processSort),
    nodes,
    pools: poolsOf(attempts, nodes, processSort),
    tasks,
  };
}

/** The lanes attempts ran on, ordered by process then thread sort index (then ids, for a trace without them). */
function lanesOf(attempts: readonly AttemptBar[], names: Map<string, string>, threadSort: Map<string, number>, processSort: Map<number, number>): LaneRow[] {
  const lanes = new Map<string, LaneRow>();
  for (const a of attempts) {
    const key = `${a.pid}/${a.tid}`;
    if (!lanes.has(key)) lanes.set(key, { pid: a.pid, tid: a.tid, name: names.get(key) ?? `${a.node} lane ${a.tid}`, pool: a.pool, node: a.node });
  }
  const order = (l: LaneRow): [number, number, number, number] => [processSort.get(l.pid) ?? l.pid, l.pid, threadSort.get(`${l.pid}/${l.tid}`) ?? l.tid, l.tid];
  return [...lanes.values()].sort((x, y) => {
    const [a, b] = [order(x), order(y)];
    return a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3];
  });
}

function poolsOf(attempts: readonly AttemptBar[], nodes: readonly NodeLifeBar[], processSort: Map<number, number>): string[] {
  const pids = new Map<string, number>();
  for (const x of [...nodes, ...attempts]) if (!pids.has(x.pool)) pids.set(x.pool, x.pid);
  return [...pids.entries()].sort(([, a], [, b]) => (processSort.get(a) ?? a) - (processSort.get(b) ?? b) || a - b).map(([pool]) => pool);
}

/** Each task's state, for a trace without `otherData.tasks`: what its last attempt says. */
function tasksFrom(attempts: readonly AttemptBar[]): TaskTrace[] {
  const last = new Map<string, AttemptBar>();
  for (const a of attempts) if ((last.get(a.task)?.attempt ?? 0) <= a.attempt) last.set(a.task, a);
  return [...last.values()].map((a) => ({
    id: a.task,
    status: STATUS_OF[a.outcome],
    attempts: a.attempt,
    dependsOn: a.dependsOn,
    ...(a.error === undefined ? {} : { error: a.error }),
  }));
}

const STATUS_OF: Record<AttemptOutcome, TaskTraceStatus> = {
  succeeded: "succeeded",
  failed: "failed",
  timeout: "failed",
  retry: "retrying",
  requeued: "ready",
  cancelled: "cancelled",
  abandoned: "cancelled",
  running: "running",
};

function isTaskTrace(value: unknown): value is TaskTrace {
  const t = value as TaskTrace | null;
  return typeof t === "object" && t !== null && typeof t.id === "string" && typeof t.status === "string" && Array.isArray(t.dependsOn);
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
