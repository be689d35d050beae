/**
 * What the report page's script draws, as compact JSON: rows (a header per pool, a row per node with its
 * life, then the node's lanes), one bar per attempt and one per node life, placed by row and time.
 * Task ids are listed once and bars refer to them by index, so a large run stays a small page.
 */
import type { CriticalPath } from "./critical-path.ts";
import type { TraceModel } from "./trace-model.ts";

export interface PageData {
  readonly makespanMs: number;
  readonly rows: readonly { readonly k: "pool" | "node" | "lane"; readonly label: string }[];
  /** Task ids and their dependencies; `c`: on the critical path. */
  readonly tasks: readonly { readonly id: string; readonly d: readonly string[]; readonly c: 0 | 1 }[];
  /** Attempts: task index, attempt, outcome, row, start, end (ms), node, pool, slots, ready time, error. */
  readonly bars: readonly {
    readonly ti: number;
    readonly a: number;
    readonly o: string;
    readonly r: number;
    readonly s: number;
    readonly e: number;
    readonly n: string;
    readonly p: string;
    readonly sl: number;
    readonly rd?: number;
    readonly err?: string;
  }[];
  /** Node lives: row, start, end, how it ended, node, pool, error. */
  readonly lives: readonly {
    readonly r: number;
    readonly s: number;
    readonly e: number;
    readonly end: string;
    readonly n: string;
    readonly p: string;
    readonly err?: string;
  }[];
}

export function pageData(model: TraceModel, critical: CriticalPath): PageData {
  const rows: { k: "pool" | "node" | "lane"; label: string }[] = [];
  const laneRow = new Map<string, number>();
  const nodeRow = new Map<string, number>();
  const key = (pool: string, node: string) => `${pool}\u0000${node}`;
  for (const pool of model.pools) {
    rows.push({ k: "pool", label: `pool ${pool}` });
    const lanes = model.lanes.filter((l) => l.pool === pool);
    const nodes = [...new Set([...lanes.map((l) => l.node), ...model.nodes.filter((n) => n.pool === pool).map((n) => n.node)])];
    for (const node of nodes) {
      nodeRow.set(key(pool, node), rows.length);
      rows.push({ k: "node", label: node });
      for (const lane of lanes) {
        if (lane.node !== node) continue;
        laneRow.set(`${lane.pid}/${lane.tid}`, rows.length);
        rows.push({ k: "lane", label: lane.name });
      }
    }
  }
  const onPath = new Set(critical.tasks);
  const taskIndex = new Map<string, number>();
  const tasks: { id: string; d: readonly string[]; c: 0 | 1 }[] = [];
  const indexOf = (id: string, deps: readonly string[]): number => {
    let i = taskIndex.get(id);
    if (i === undefined) {
      taskIndex.set(id, (i = tasks.length));
      tasks.push({ id, d: deps, c: onPath.has(id) ? 1 : 0 });
    }
    return i;
  };
  for (const t of model.tasks) indexOf(t.id, t.dependsOn);
  const bars = model.attempts.map((a) => ({
    ti: indexOf(a.task, a.dependsOn),
    a: a.attempt,
    o: a.outcome,
    r: laneRow.get(`${a.pid}/${a.tid}`) ?? 0,
    s: a.startMs,
    e: a.endMs,
    n: a.node,
    p: a.pool,
    sl: a.slots,
    ...(a.readyMs === undefined ? {} : { rd: a.readyMs }),
    ...(a.error === undefined ? {} : { err: a.error }),
  }));
  const lives = model.nodes.map((n) => ({
    r: nodeRow.get(key(n.pool, n.node)) ?? 0,
    s: n.startMs,
    e: n.endMs,
    end: n.end,
    n: n.node,
    p: n.pool,
    ...(n.error === undefined ? {} : { err: n.error }),
  }));
  return { makespanMs: model.makespanMs, rows, tasks, bars, lives };
}
