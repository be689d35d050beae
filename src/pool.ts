/**
 * A run's view of one of its pools: the name its tasks use, the ready tasks waiting for it (best
 * first), those waiting for a node of their own or for more free slots than any node has now, and the
 * NodePool whose nodes run them (node-pool.ts) — private to the run for a bare provider, or shared
 * with other runs for a pool made with `pool()`. Slots and node state live on the NodePool; the hot
 * path reads `keepers` and `load` straight from it.
 */
import { FlotillaError } from "./errors.ts";
import type { NodeKeeper } from "./node-keeper.ts";
import type { NodePool, Tenant } from "./node-pool.ts";
import { bodyKind, type ComputeProvider } from "./provider.ts";
import type { ReadyQueue } from "./ready-queue.ts";
import type { TaskBody, TaskSpec } from "./task-context.ts";
import { closest } from "./validation.ts";

export class Pool {
  /** The name the run's tasks give in their `pool` option. */
  readonly name: string;
  readonly nodes: NodePool;
  readonly provider: ComputeProvider<any>;
  readonly kinds: readonly string[];
  readonly maxNodes: number;
  /** Ready tasks of this pool, best first. */
  readonly queue: ReadyQueue;
  /** The NodePool's keepers and loads (the same arrays). */
  readonly keepers: NodeKeeper[];
  readonly load: number[];
  readonly placements: number[];
  /**
   * Ready tasks that must run alone on a node (requeued from a node lost while they shared it, so
   * one of them may have killed it), waiting for an empty node. See node-loss.ts.
   */
  readonly alone: number[] = [];
  /** Ready tasks needing more slots than any node has free now, waiting for a node where they fit. */
  readonly wide: number[] = [];
  /** The run, as the NodePool sees it (set when the run attaches). */
  tenant!: Tenant;
  /** Slots needed by the tasks in `queue` (stale entries of tasks cancelled while queued included). */
  queuedSlots = 0;
  /** Attempts of this run on the pool's nodes, and their slots. */
  running = 0;
  runningSlots = 0;
  /** Tasks of this run in the pool, and those that ended (for the autoscaler's `waiting`). */
  tasks = 0;
  taskSlots = 0;
  ended = 0;
  endedSlots = 0;

  constructor(name: string, nodes: NodePool, queue: ReadyQueue) {
    this.name = name;
    this.nodes = nodes;
    this.provider = nodes.provider;
    this.kinds = nodes.kinds;
    this.maxNodes = nodes.shared ? Infinity : nodes.maxNodes;
    this.queue = queue;
    this.keepers = nodes.keepers;
    this.load = nodes.load;
    this.placements = nodes.placements;
  }

  get restricted(): boolean {
    return this.nodes.restricted;
  }

  get startError(): unknown {
    return this.nodes.startError;
  }

  set startError(error: unknown) {
    this.nodes.startError = error;
  }

  /** Ready tasks waiting here, in any of the three lines. */
  get waitingTasks(): number {
    return this.queue.size + this.alone.length + this.wide.length;
  }

  free(need: number): number {
    return this.nodes.free(need);
  }

  empty(): number {
    return this.nodes.empty(this.tenant);
  }

  /** An attempt takes `need` slots at position k; returns its placement (see node-loss.ts; 0 while `queued`). */
  take(k: number, need: number, queued = false): number {
    this.running++;
    this.runningSlots += need;
    return this.nodes.take(k, need, queued);
  }

  /** A queued attempt at position k began; returns its placement. */
  began(k: number, need: number): number {
    return this.nodes.began(k, need);
  }

  give(k: number, need: number, queued = false): void {
    this.running--;
    this.runningSlots -= need;
    this.nodes.give(k, need, queued);
  }

  hold(k: number, on: boolean): void {
    this.nodes.hold(k, on);
  }

  grow(waiting: number): void {
    this.nodes.grow(waiting, this.tenant);
  }

  get alive(): boolean {
    return this.nodes.alive;
  }

  get slots(): number {
    return this.nodes.slots;
  }

  keeperOf(node: object): number {
    return this.nodes.keeperOf(node);
  }
}

/**
 * The index of the pool task `taskId` names (`pool`), after checking that the run has it, that its
 * provider runs this body's kind and that one of its nodes can hold the task's `slots`; throws
 * E_INVALID_OPTION naming the task, the pool and the numbers, and which pool could run it.
 */
export function poolForTask(
  pools: readonly Pool[],
  index: ReadonlyMap<string, number>,
  taskId: string,
  name: string,
  body: TaskBody<any, unknown> | TaskSpec,
  slots: number,
): number {
  const p = index.get(name);
  if (p === undefined) {
    const names = pools.map((each) => each.name);
    const hint = closest(name, names);
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `task "${taskId}": option "pool" names pool "${name}", which this run does not have${hint ? ` (did you mean "${hint}"?)` : ""}; its pools: ${names.join(", ")}`,
    );
  }
  const kind = bodyKind(body);
  const pool = pools[p]!;
  if (!pool.kinds.includes(kind)) {
    const able = pools.filter((other) => other.kinds.includes(kind)).map((other) => `"${other.name}"`);
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `task "${taskId}": its body is of kind "${kind}", which pool "${name}" (provider "${pool.provider.name}") cannot run (it runs ${pool.kinds.map((k) => `"${k}"`).join(", ")}); ` +
        (able.length > 0
          ? `give the task { pool: ${able.join(" or ")} }`
          : `add a pool whose provider runs "${kind}" bodies to the run's "pools" and name it in the task's "pool" option`),
    );
  }
  const perNode = pool.nodes.options.slotsPerNode;
  if (slots > 1 && perNode !== undefined && slots > perNode) {
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `task "${taskId}": option "slots" is ${slots}, but a node of pool "${name}" has ${perNode} slot${perNode === 1 ? "" : "s"} (pool option slotsPerNode); give the task at most ${perNode}, or the pool bigger nodes`,
    );
  }
  return p;
}
