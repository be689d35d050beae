/**
 * The dry run: the job as planned, against a simulated cloud in virtual time, nothing executed. Every
 * pool becomes a pool of simulated VMs (flotilla/testing `simulatedCloud` behind flotilla/cloud-vm
 * `cloudVm`, as examples/capacity-planning.ts plans a job): a cloud pool as declared, a processes pool
 * as one node of its slots that starts at once and costs nothing, a threads pool as its threads. Every
 * task's body only waits its `estimateMs` on the virtual clock; retries, timeouts, priorities, slots and
 * dependencies work as in a real run. Hours of plan take milliseconds and the same seed gives the same
 * report.
 */
import { cloudVm } from "../../adapters/cloud-vm/index.ts";
import { FlotillaError } from "../../src/errors.ts";
import { Job } from "../../src/job.ts";
import type { JobStatus } from "../../src/result.ts";
import { run } from "../../src/run.ts";
import { type Pool, pool } from "../../src/shared-pool.ts";
import type { TaskOptions } from "../../src/task-options.ts";
import { simulatedCloud, type LatencyMs, virtualRuntime } from "../../src/testing/index.ts";
import { invalidOption } from "../../src/validation.ts";
import { CLOUD_MAX_NODES_DEFAULT, type PoolPlan, type PoolProvider, TASKS_PER_THREAD_DEFAULT, THREADS_DEFAULT, slotsOf } from "./pools.ts";

/** What the dry run found: how long, how many nodes, what it would cost. */
export interface DryRunReport {
  /** The job's name. */
  readonly name: string;
  /** "succeeded" unless the plan itself fails: a task whose `timeoutMs` is below its `estimateMs` times out. */
  readonly status: JobStatus;
  /** How many tasks (ranges expanded). */
  readonly tasks: number;
  /** Virtual milliseconds from the start of the run to its end, node starts included. */
  readonly makespanMs: number;
  /** The longest chain of estimates through the dependencies: no number of nodes makes the job shorter. */
  readonly criticalPathMs: number;
  /** The ids along that chain, first to last. */
  readonly criticalPath: readonly string[];
  /** Most nodes up or starting at once, per pool. */
  readonly peakNodes: Readonly<Record<string, number>>;
  /** The cost of every pool's node-hours (costPerNodeHour of cloud pools; local pools cost 0). */
  readonly cost: number;
  /** Per pool: what it was modelled as and what it did. */
  readonly pools: Readonly<Record<string, DryRunPoolReport>>;
  /** Tasks that did not succeed in the plan, with why (empty when `status` is "succeeded"). */
  readonly unfinished: readonly { readonly id: string; readonly status: string; readonly reason: string }[];
  /** The seed of the simulated clouds and the run (another seed draws other start latencies). */
  readonly seed: number;
}

/** One pool in a dry run. */
export interface DryRunPoolReport {
  /** What the pool is in a real run ("cloud": only ever simulated). */
  readonly provider: PoolProvider;
  /** Its bound of dedicated nodes and the slots of each, as modelled. */
  readonly maxNodes: number;
  readonly slotsPerNode: number;
  /** How many tasks ran in it. */
  readonly tasks: number;
  readonly peakNodes: number;
  readonly nodeSeconds: number;
  readonly cost: number;
  /** Busy slot-seconds over available slot-seconds. */
  readonly utilization: number;
  readonly preemptions: number;
  readonly startFailures: number;
}

/** A task as the dry run needs it. */
export interface DryTask {
  readonly id: string;
  /** Its options, `pool` and `dependsOn` included. */
  readonly options: TaskOptions;
  readonly estimateMs: number;
}

export interface DryRunOptions {
  /** Seed of the virtual runtime and the simulated clouds. @default 1. Bounds: integer. */
  readonly seed?: number;
}

/** How a pool is modelled: the pool options and the simulated cloud behind it. */
interface PoolModel {
  readonly maxNodes: number;
  readonly minNodes: number;
  readonly lowPriority: { readonly minNodes: number; readonly maxNodes: number };
  /** Undefined: what each VM reports (an in-process pool's unlimited slots). */
  readonly slotsPerNode: number | undefined;
  readonly startLatencyMs: LatencyMs;
  readonly apiLatencyMs: LatencyMs;
  readonly deleteLatencyMs: LatencyMs;
  readonly costPerNodeHour: { readonly dedicated: number; readonly lowPriority: number };
  readonly preemptionsPerHour: number;
  readonly startFailureRate: number;
  readonly idleTimeoutMs: number;
  readonly placement: "pack" | "spread";
  readonly maxConcurrentStarts: number;
  readonly maxConcurrentCalls: number;
}

/** A cloud pool's defaults: the simulated cloud's own latencies and prices, cloudVm's and pool()'s bounds. */
const CLOUD_DEFAULTS = {
  startLatencyMs: { min: 20_000, max: 60_000 },
  apiLatencyMs: { min: 20, max: 200 },
  deleteLatencyMs: { min: 2_000, max: 8_000 },
  costPerNodeHour: 1,
  /** A low-priority node-hour costs this share of a dedicated one unless given. */
  lowPriorityShare: 0.2,
  idleTimeoutMs: 60_000,
  maxConcurrentStarts: 10,
  maxConcurrentCalls: 4,
} as const;

/** A machine of this computer: there at once, free, never taken back. */
function localModel(maxNodes: number, slotsPerNode: number | undefined): PoolModel {
  return {
    maxNodes,
    minNodes: 0,
    lowPriority: { minNodes: 0, maxNodes: 0 },
    slotsPerNode,
    startLatencyMs: 0,
    apiLatencyMs: 0,
    deleteLatencyMs: 0,
    costPerNodeHour: { dedicated: 0, lowPriority: 0 },
    preemptionsPerHour: 0,
    startFailureRate: 0,
    idleTimeoutMs: Infinity,
    placement: "pack",
    maxConcurrentStarts: maxNodes,
    maxConcurrentCalls: Infinity,
  };
}

function modelOf(plan: PoolPlan): PoolModel {
  const decl = plan.decl;
  switch (decl.provider) {
    case "in-process":
      return localModel(1, undefined);
    case "custom":
      // A module's own provider: as many nodes as it allows, each with the slots it reports.
      return localModel(decl.instance.maxNodes ?? 1, undefined);
    case "processes":
      return localModel(1, slotsOf(decl));
    case "threads":
      return localModel(decl.threads ?? THREADS_DEFAULT(), decl.tasksPerThread ?? TASKS_PER_THREAD_DEFAULT);
    case "cloud": {
      const cost = decl.costPerNodeHour ?? CLOUD_DEFAULTS.costPerNodeHour;
      const dedicated = typeof cost === "number" ? cost : (cost.dedicated ?? CLOUD_DEFAULTS.costPerNodeHour);
      const lowPriority = typeof cost === "number" ? cost * CLOUD_DEFAULTS.lowPriorityShare : (cost.lowPriority ?? dedicated * CLOUD_DEFAULTS.lowPriorityShare);
      return {
        maxNodes: decl.maxNodes ?? CLOUD_MAX_NODES_DEFAULT,
        minNodes: decl.minNodes ?? 0,
        lowPriority: { minNodes: decl.lowPriority?.minNodes ?? 0, maxNodes: decl.lowPriority?.maxNodes ?? 0 },
        slotsPerNode: decl.slotsPerNode ?? 1,
        startLatencyMs: decl.startLatencyMs ?? CLOUD_DEFAULTS.startLatencyMs,
        apiLatencyMs: decl.apiLatencyMs ?? CLOUD_DEFAULTS.apiLatencyMs,
        deleteLatencyMs: decl.deleteLatencyMs ?? CLOUD_DEFAULTS.deleteLatencyMs,
        costPerNodeHour: { dedicated, lowPriority },
        preemptionsPerHour: decl.preemptionsPerHour ?? 0,
        startFailureRate: decl.startFailureRate ?? 0,
        idleTimeoutMs: decl.idleTimeoutMs ?? CLOUD_DEFAULTS.idleTimeoutMs,
        placement: decl.placement ?? "pack",
        maxConcurrentStarts: decl.maxConcurrentStarts ?? CLOUD_DEFAULTS.maxConcurrentStarts,
        maxConcurrentCalls: decl.maxConcurrentCalls ?? CLOUD_DEFAULTS.maxConcurrentCalls,
      };
    }
  }
}

/** Runs the plan in virtual time and reports it. Rejects with E_INVALID_OPTION for a bad option. */
export async function dryRunPlan(
  name: string,
  tasks: readonly DryTask[],
  plans: ReadonlyMap<string, PoolPlan>,
  options: DryRunOptions = {},
): Promise<DryRunReport> {
  if (typeof options !== "object" || options === null) throw new FlotillaError("E_INVALID_OPTION", "dryRun(options): options must be an object");
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw invalidOption("dryRun(options)", "seed", "an integer", seed);

  const runtime = virtualRuntime({ seed });
  const pools: Record<string, Pool> = {};
  const models = new Map<string, PoolModel>();
  let k = 0;
  for (const plan of plans.values()) {
    const model = modelOf(plan);
    models.set(plan.name, model);
    const cloud = simulatedCloud({
      runtime,
      name: `dry-run ${plan.name}`,
      seed: seed + k,
      apiLatencyMs: model.apiLatencyMs,
      startLatencyMs: model.startLatencyMs,
      deleteLatencyMs: model.deleteLatencyMs,
      preemptionsPerHour: model.preemptionsPerHour,
      startFailureRate: model.startFailureRate,
      costPerNodeHour: model.costPerNodeHour,
    });
    const provider = cloudVm({
      driver: cloud,
      maxNodes: Math.max(1, model.maxNodes + model.lowPriority.maxNodes),
      slotsPerVm: model.slotsPerNode ?? Infinity,
      maxConcurrentCalls: model.maxConcurrentCalls,
      namePrefix: `dry-run-${++k}`,
    });
    pools[plan.name] = pool(provider, {
      name: plan.name,
      runtime,
      maxNodes: model.maxNodes,
      minNodes: model.minNodes,
      lowPriority: model.lowPriority,
      ...(model.slotsPerNode === undefined ? {} : { slotsPerNode: model.slotsPerNode }),
      idleTimeoutMs: model.idleTimeoutMs,
      placement: model.placement,
      maxConcurrentStarts: model.maxConcurrentStarts,
      costPerNodeHour: model.costPerNodeHour,
      // A VM's delete may take its whole deleteLatencyMs: the plan waits for it (it is billed until gone).
      stopTimeoutMs: 24 * 3_600_000,
    });
  }

  const job = new Job<any>(name);
  for (const task of tasks) job.task(task.id, task.options, waitFor(task.estimateMs));
  let result: Awaited<ReturnType<typeof run>>;
  try {
    result = await run(job, { pools, runtime });
  } finally {
    await Promise.all(Object.values(pools).map((p) => p.close()));
  }

  const perPool = new Map<string, number>();
  for (const task of tasks) perPool.set(task.options.pool!, (perPool.get(task.options.pool!) ?? 0) + 1);
  const poolReports: Record<string, DryRunPoolReport> = {};
  const peakNodes: Record<string, number> = {};
  let cost = 0;
  for (const [poolName, p] of Object.entries(pools)) {
    const stats = p.stats();
    const model = models.get(poolName)!;
    peakNodes[poolName] = stats.peakNodes;
    cost += stats.cost;
    poolReports[poolName] = {
      provider: plans.get(poolName)!.provider,
      maxNodes: model.maxNodes,
      slotsPerNode: model.slotsPerNode ?? Infinity,
      tasks: perPool.get(poolName) ?? 0,
      peakNodes: stats.peakNodes,
      nodeSeconds: stats.nodeSeconds,
      cost: stats.cost,
      utilization: stats.utilization,
      preemptions: stats.preemptions,
      startFailures: stats.startFailures,
    };
  }
  const unfinished = [...result.tasks]
    .filter(([, r]) => r.status !== "succeeded")
    .map(([id, r]) => ({ id, status: r.status, reason: r.error instanceof Error ? r.error.message : String(r.error) }));
  const critical = criticalPath(tasks);
  return {
    name,
    status: result.status,
    tasks: tasks.length,
    makespanMs: result.durationMs,
    criticalPathMs: critical.ms,
    criticalPath: critical.ids,
    peakNodes,
    cost,
    pools: poolReports,
    unfinished,
    seed,
  };
}

/** The body of every task in a dry run: it waits its estimate on the virtual clock. */
function waitFor(ms: number) {
  return ({ sleep }: { sleep(ms: number): Promise<void> }) => sleep(ms);
}

/** The longest path of estimates through the dependencies (the graph has no cycle: it was checked). */
function criticalPath(tasks: readonly DryTask[]): { ms: number; ids: string[] } {
  const index = new Map(tasks.map((t, i) => [t.id, i]));
  const n = tasks.length;
  const indegree = new Int32Array(n);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  tasks.forEach((t, i) => {
    for (const dep of t.options.dependsOn ?? []) {
      const d = index.get(dep)!;
      dependents[d]!.push(i);
      indegree[i]!++;
    }
  });
  const finish = new Float64Array(n);
  const via = new Int32Array(n).fill(-1);
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (indegree[i] === 0) queue.push(i);
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q]!;
    finish[i]! += tasks[i]!.estimateMs;
    for (const d of dependents[i]!) {
      if (finish[i]! > finish[d]!) [finish[d], via[d]] = [finish[i]!, i];
      if (--indegree[d]! === 0) queue.push(d);
    }
  }
  let end = -1;
  for (let i = 0; i < n; i++) if (end < 0 || finish[i]! > finish[end]!) end = i;
  const ids: string[] = [];
  for (let i = end; i >= 0; i = via[i]!) ids.unshift(tasks[i]!.id);
  return { ms: end < 0 ? 0 : finish[end]!, ids };
}
