/**
 * A module whose default export (or export `job`) is a flotilla Job: its tasks are read from the job's
 * graph as they are. Its pools are those of a named export `pools`, each declared as in a job file
 * (`{ provider: "processes", slots: 2 }`) or a provider object (`childProcess({ slots: 2 })`); a pool it
 * does not name is made from what its tasks are: functions run in-process, commands in child
 * processes, worker tasks in worker threads. Its dependencies and cycles are checked by core's planner.
 */
import { FlotillaError, messageOf } from "../../src/errors.ts";
import { graphOf } from "../../src/job.ts";
import { planOf } from "../../src/plan.ts";
import { bodyKind, type ComputeProvider } from "../../src/provider.ts";
import type { TaskOptions } from "../../src/task-options.ts";
import { JobFileError } from "./errors.ts";
import { DEFAULT_ESTIMATE_MS, type JobPlan, type PlannedTask } from "./job-plan.ts";
import { type PoolPlan, type PoolProvider, declaredPools, runsKind, slotsOf } from "./pools.ts";
import { Problems, found } from "./problems.ts";
import type { JobSource } from "./source.ts";

/** What a body kind of core is in a job file's words. */
const KINDS: Record<string, { task: PlannedTask["kind"]; provider: PoolProvider }> = {
  function: { task: "function", provider: "in-process" },
  command: { task: "command", provider: "processes" },
  "worker-thread": { task: "worker", provider: "threads" },
};

/** The plan of a Job export; throws a JobFileError listing every problem. */
export function planJobExport(source: Extract<JobSource, { kind: "job" }>): JobPlan {
  const problems = new Problems();
  const { job } = source;
  const graph = graphOf(job)!;
  try {
    planOf(graph);
  } catch (error) {
    if (!(error instanceof FlotillaError)) throw error;
    problems.add([], `the exported job "${job.name}" cannot run: ${messageOf(error)}`);
  }
  let declared = new Map<string, PoolPlan>();
  let names = new Set<string>();
  const custom = new Map<string, PoolPlan>();
  if (source.pools !== undefined) {
    if (typeof source.pools !== "object" || source.pools === null || Array.isArray(source.pools)) {
      problems.add(["pools"], `expected the export "pools" to be an object of pools by name, found ${found(source.pools)}`);
    } else {
      const declarations: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(source.pools)) {
        if (!isProvider(value)) declarations[name] = value;
        else custom.set(name, { name, provider: "custom", decl: { provider: "custom", instance: value }, implicit: false, slotsPerNode: Infinity });
      }
      ({ plans: declared, names } = declaredPools(declarations, problems));
    }
  }

  const tasks: PlannedTask[] = [];
  const kindsByPool = new Map<string, Set<string>>();
  for (let i = 0; i < graph.ids.length; i++) {
    const id = graph.ids[i]!;
    const kind = bodyKind(graph.bodies[i]!);
    const policy = graph.policies[i];
    const poolName = policy?.pool ?? "default";
    const kinds = kindsByPool.get(poolName) ?? new Set<string>();
    kindsByPool.set(poolName, kinds.add(kind));
    const options: TaskOptions = {
      dependsOn: dependenciesOf(graph, i),
      pool: poolName,
      ...(policy === undefined
        ? {}
        : {
            retries: policy.retries,
            backoff: { initialMs: policy.initialMs, factor: policy.factor, maxMs: policy.maxMs, jitter: policy.jitter },
            ...(policy.timeoutMs > 0 ? { timeoutMs: policy.timeoutMs } : {}),
            onFailure: policy.satisfy ? "satisfy" : "block",
            priority: policy.priority,
            slots: policy.slots,
          }),
    };
    tasks.push({ id, index: i, kind: KINDS[kind]?.task ?? "function", options, estimateMs: DEFAULT_ESTIMATE_MS });
  }

  const pools = new Map<string, PoolPlan>([...declared, ...custom]);
  for (const [name, kinds] of kindsByPool) {
    const plan = declared.get(name);
    const own = custom.get(name)?.decl;
    if (own?.provider === "custom") {
      const runs = own.instance.kinds ?? ["function"];
      for (const kind of kinds) {
        if (!runs.includes(kind))
          problems.add(
            ["pools", name],
            `expected a provider that runs the job's tasks of kind "${kind}", found "${own.instance.name}" (kinds ${runs.join(", ")})`,
          );
      }
    } else if (plan !== undefined) {
      for (const kind of kinds) {
        const task = KINDS[kind]?.task;
        if (task === undefined || task === "function" || !runsKind(plan.provider, task))
          problems.add(["pools", name], `expected a pool that runs the job's tasks of kind "${kind}", found provider ${plan.provider}`);
      }
    } else if (!names.has(name)) {
      const providers = new Set([...kinds].map((k) => KINDS[k]?.provider));
      const provider = [...providers][0];
      if (providers.size !== 1 || provider === undefined) {
        problems.add(
          ["pools"],
          `the tasks of pool "${name}" are of kinds ${[...kinds].join(", ")}: export "pools" declaring it (a job file's pools), or give each kind its own pool`,
        );
        continue;
      }
      const decl = { provider } as PoolPlan["decl"];
      pools.set(name, { name, provider, decl, implicit: true, slotsPerNode: slotsOf(decl) });
    }
  }
  for (const task of tasks) {
    const plan = pools.get(task.options.pool!);
    const slots = task.options.slots ?? 1;
    if (plan !== undefined && slots > plan.slotsPerNode)
      problems.add([], `task "${task.id}": expected slots at most ${plan.slotsPerNode} (one node of pool "${plan.name}"), found number ${slots}`);
  }
  if (problems.size > 0) throw new JobFileError(source.shown, problems.list(undefined));
  return { name: job.name, job, tasks, pools };
}

/** A provider object (as `checkProvider` has it: a name and the three methods), not a pool declaration. */
function isProvider(value: unknown): value is ComputeProvider<any> {
  if (typeof value !== "object" || value === null) return false;
  const p = value as Record<string, unknown>;
  return typeof p.name === "string" && typeof p.startNode === "function" && typeof p.stopNode === "function" && typeof p.run === "function";
}

/** Task i's dependency ids (a dependency declared after it is stored by name). */
function dependenciesOf(graph: NonNullable<ReturnType<typeof graphOf>>, i: number): string[] {
  const deps: string[] = [];
  for (let e = i === 0 ? 0 : graph.depEnd[i - 1]!, end = graph.depEnd[i]!; e < end; e++) {
    const d = graph.deps[e]!;
    deps.push(d >= 0 ? graph.ids[d]! : graph.forward.get(e)!);
  }
  return deps;
}
