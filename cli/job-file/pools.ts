/**
 * The pools of a job file: each declared one checked by its provider's schema, the slots of its nodes,
 * which task kinds it runs, and the pool a task without `pool` goes to (see `poolFor`).
 */
import { availableParallelism } from "node:os";
import type { ComputeProvider } from "../../src/provider.ts";
import { closest } from "../../src/validation.ts";
import { checkObjectPart, checkPart } from "./schema-problems.ts";
import { type DataPath, type Problems, found } from "./problems.ts";
import { POOL_HEAD_SCHEMA, POOL_SCHEMAS, type PoolDecl, type ProviderName } from "./schema.ts";

export type TaskKind = "command" | "worker";

/**
 * What runs a pool's tasks: a provider a file can declare, or, for a module exporting a Job, flotilla's
 * `inProcess()` (its function tasks) or a provider object the module exports in `pools` ("custom").
 */
export type PoolProvider = ProviderName | "in-process" | "custom";

/** A pool that is not declared in job file form: the in-process pool, or a module's own provider. */
export type ProgramPool = { readonly provider: "in-process" } | { readonly provider: "custom"; readonly instance: ComputeProvider<any> };

/** A pool of the job: declared in the file, or made for tasks no declared pool could take. */
export interface PoolPlan {
  readonly name: string;
  readonly provider: PoolProvider;
  readonly decl: PoolDecl | ProgramPool;
  /** True for a pool the file does not declare (named after its provider, with its defaults). */
  readonly implicit: boolean;
  /** Slots of one of its nodes: the most one task may take. */
  readonly slotsPerNode: number;
}

/** Defaults the providers use when the file says nothing (the adapters' own). */
export const THREADS_DEFAULT = () => Math.min(4, availableParallelism());
export const TASKS_PER_THREAD_DEFAULT = 8;
export const CLOUD_MAX_NODES_DEFAULT = 10;

/** The provider that runs a task kind on this machine. */
const LOCAL: Record<TaskKind, ProviderName> = { command: "processes", worker: "threads" };

/** Which task kinds a provider a file can declare runs (a cloud pool runs both: its bodies only wait, in a dry run). */
export function runsKind(provider: PoolProvider, kind: TaskKind): boolean {
  return provider === "cloud" || LOCAL[kind] === provider;
}

/** Checks the declared pools; those with problems are left out (tasks naming them are not reported again). */
export function declaredPools(pools: Record<string, unknown> | undefined, problems: Problems): { plans: Map<string, PoolPlan>; names: Set<string> } {
  const plans = new Map<string, PoolPlan>();
  const names = new Set<string>();
  for (const [name, value] of Object.entries(pools ?? {})) {
    names.add(name);
    const at: DataPath = ["pools", name];
    if (name.length === 0) {
      problems.add(at, "expected a non-empty pool name, found an empty one");
      continue;
    }
    const head = checkPart(POOL_HEAD_SCHEMA, value, at, problems);
    if (head === undefined) continue;
    // A pool with a bad key is still used to check its tasks (the file is refused anyway).
    const decl = checkObjectPart(POOL_SCHEMAS[head.provider], value, at, problems)?.value as PoolDecl | undefined;
    if (decl === undefined || !crossChecked(decl, at, problems)) continue;
    plans.set(name, { name, provider: decl.provider, decl, implicit: false, slotsPerNode: slotsOf(decl) });
  }
  return { plans, names };
}

/** Slots of one node of a pool (in-process: unlimited; a module's own provider: what its nodes say, checked by the run). */
export function slotsOf(decl: PoolPlan["decl"]): number {
  if (decl.provider === "in-process" || decl.provider === "custom") return Infinity;
  if (decl.provider === "processes") return decl.slots ?? availableParallelism();
  if (decl.provider === "threads") return decl.tasksPerThread ?? TASKS_PER_THREAD_DEFAULT;
  return decl.slotsPerNode ?? 1;
}

/** What a cloud pool's keys must agree on between them (pool() checks the same, later, without a path). */
function crossChecked(decl: PoolDecl, at: DataPath, problems: Problems): boolean {
  if (decl.provider !== "cloud") return true;
  const before = problems.added;
  const maxNodes = decl.maxNodes ?? CLOUD_MAX_NODES_DEFAULT;
  if ((decl.minNodes ?? 0) > maxNodes) problems.add([...at, "minNodes"], `expected at most maxNodes (${maxNodes}), found ${found(decl.minNodes)}`);
  const low = decl.lowPriority ?? {};
  if ((low.minNodes ?? 0) > (low.maxNodes ?? 0))
    problems.add([...at, "lowPriority", "minNodes"], `expected at most lowPriority.maxNodes (${low.maxNodes ?? 0}), found ${found(low.minNodes)}`);
  if (maxNodes === 0 && (low.maxNodes ?? 0) === 0)
    problems.add([...at, "maxNodes"], "expected maxNodes or lowPriority.maxNodes >= 1 (the pool could never run anything), found 0 for both");
  for (const key of ["startLatencyMs", "apiLatencyMs", "deleteLatencyMs"] as const) {
    const latency = decl[key];
    if (typeof latency === "object" && latency.max < latency.min)
      problems.add([...at, key, "max"], `expected an integer number of milliseconds >= min (${latency.min}), found ${found(latency.max)}`);
  }
  return problems.added === before;
}

/** The pools the tasks go to, by name: the declared ones, then the implicit ones tasks needed. */
export class PoolChooser {
  readonly #plans: Map<string, PoolPlan>;
  /** Every declared name, the ones with problems too (a task naming one is not reported again). */
  readonly #declared: ReadonlySet<string>;
  readonly #fallback: string | undefined;

  constructor(plans: Map<string, PoolPlan>, declared: ReadonlySet<string>, fallback: string | undefined) {
    this.#plans = plans;
    this.#declared = declared;
    this.#fallback = fallback;
  }

  /** The pools used or declared, in the file's order, implicit ones last. */
  get plans(): ReadonlyMap<string, PoolPlan> {
    return this.#plans;
  }

  /**
   * The pool of a task of `kind`: its own `pool`, else `defaults.pool`, else the one declared pool of
   * its local provider (processes for commands, threads for workers), else the one cloud pool, else an
   * implicit pool named after the local provider. Undefined (with a problem added) when that fails.
   */
  poolFor(kind: TaskKind, named: string | undefined, at: DataPath, problems: Problems, generated: boolean): PoolPlan | undefined {
    const name = named ?? this.#fallback;
    if (name !== undefined) return this.#named(name, kind, named === undefined ? ["defaults", "pool"] : [...at, "pool"], problems, generated);
    const local = [...this.#plans.values()].filter((p) => p.provider === LOCAL[kind]);
    if (local.length === 1) return local[0];
    const cloud = [...this.#plans.values()].filter((p) => p.provider === "cloud");
    if (local.length === 0 && cloud.length === 1) return cloud[0];
    if (local.length + cloud.length > 1) {
      const names = (local.length > 0 ? local : cloud).map((p) => p.name).join(", ");
      problems.add(at, `missing "pool": expected one of the pools that run ${kind === "command" ? "commands" : "workers"} (${names}), found none named`, {
        generated,
      });
      return undefined;
    }
    return this.#implicit(LOCAL[kind], at, problems, generated);
  }

  #named(name: string, kind: TaskKind, at: DataPath, problems: Problems, generated: boolean): PoolPlan | undefined {
    const plan = this.#plans.get(name);
    if (plan === undefined) {
      if (!this.#declared.has(name)) {
        const known = [...this.#declared];
        const hint = closestName(name, known);
        problems.add(
          at,
          `expected the name of a pool of the file (${known.length > 0 ? known.join(", ") : "it declares none under pools"}), found "${name}"${hint}`,
          { generated },
        );
      }
      return undefined;
    }
    if (!runsKind(plan.provider, kind)) {
      const wanted = kind === "command" ? "processes" : "threads";
      problems.add(
        at,
        `expected a pool that runs ${kind === "command" ? "commands" : "worker tasks"} (provider ${wanted} or cloud), found "${name}" (provider ${plan.provider})`,
        { generated },
      );
      return undefined;
    }
    return plan;
  }

  #implicit(provider: ProviderName, at: DataPath, problems: Problems, generated: boolean): PoolPlan | undefined {
    const known = this.#plans.get(provider);
    if (known?.implicit) return known;
    if (known !== undefined || this.#declared.has(provider)) {
      problems.add(at, `missing "pool": the pool "${provider}" this task would get is declared with another provider; name a pool`, { generated });
      return undefined;
    }
    const decl = { provider } as PoolDecl;
    const plan: PoolPlan = { name: provider, provider, decl, implicit: true, slotsPerNode: slotsOf(decl) };
    this.#plans.set(provider, plan);
    return plan;
  }
}

function closestName(name: string, known: readonly string[]): string {
  const hint = closest(name, known);
  return hint === undefined ? "" : ` (did you mean "${hint}"?)`;
}
