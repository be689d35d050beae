/**
 * The nodes of the agent's local providers (worker threads, a process slot set): started when an
 * attempt first needs one, up to the provider's `maxNodes`, each holding at most `slots` attempts. A
 * node reported lost is dropped and stopped (the provider rejects its running attempts with its
 * NodeLostError) and a new one starts when next needed; every node is stopped on close. This is
 * what a run's pool does for a provider, without the scheduling a run adds.
 */
import type { AbortPoint } from "./abort-point.ts";
import { FlotillaError } from "../../../src/errors.ts";
import type { ComputeProvider, NodeReport, ProviderNode } from "../../../src/provider.ts";
import type { TaskContext } from "../../../src/task-context.ts";

interface Entry {
  node: ProviderNode | undefined;
  running: number;
  lost: boolean;
}

class Pool {
  readonly provider: ComputeProvider<any>;
  readonly #onError: (error: unknown) => void;
  readonly #nodes: Entry[] = [];
  readonly #waiters = new Set<() => void>();
  #starting = 0;
  #stopped = false;

  constructor(provider: ComputeProvider<any>, onError: (error: unknown) => void) {
    this.provider = provider;
    this.#onError = onError;
  }

  /** Runs `body` on a node with a free slot, waiting for one if every node is full. */
  async run(body: unknown, ctxFor: (node: ProviderNode) => TaskContext<any>, signal: AbortPoint): Promise<unknown> {
    const entry = await this.#acquire(signal);
    try {
      return await this.provider.run(entry.node!, body, ctxFor(entry.node!));
    } finally {
      entry.running--;
      this.#wake();
    }
  }

  async #acquire(signal: AbortPoint): Promise<Entry> {
    for (;;) {
      if (this.#stopped) throw new FlotillaError("E_INVALID_OPTION", "the agent is closing: its local nodes are stopped");
      if (signal.aborted) throw signal.reason;
      const free = this.#nodes.find((e) => e.running < e.node!.slots);
      if (free !== undefined) {
        free.running++;
        return free;
      }
      if (this.#nodes.length + this.#starting < (this.provider.maxNodes ?? 1)) {
        await this.#start();
        continue;
      }
      await new Promise<void>((resolve) => {
        let unlisten = (): void => {};
        const wake = (): void => {
          this.#waiters.delete(wake);
          unlisten();
          resolve();
        };
        this.#waiters.add(wake);
        unlisten = signal.onAbort(wake);
      });
    }
  }

  #wake(): void {
    for (const wake of this.#waiters) wake();
  }

  async #start(): Promise<void> {
    const entry: Entry = { node: undefined, running: 0, lost: false };
    const report: NodeReport = { lost: () => this.#lose(entry), preempted: () => this.#lose(entry) };
    this.#starting++;
    try {
      entry.node = await this.provider.startNode(report);
    } finally {
      this.#starting--;
    }
    if (this.#stopped || entry.lost) this.#stopNode(entry.node);
    else this.#nodes.push(entry);
  }

  #lose(entry: Entry): void {
    if (entry.lost) return;
    entry.lost = true;
    const at = this.#nodes.indexOf(entry);
    if (at < 0) return; // still starting: #start stops it
    this.#nodes.splice(at, 1);
    this.#stopNode(entry.node!);
    this.#wake(); // a waiting attempt may start a node in its place
  }

  #stopNode(node: ProviderNode): Promise<void> {
    return Promise.resolve()
      .then(() => this.provider.stopNode(node))
      .catch((error: unknown) => this.#onError(error));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake();
    const nodes = this.#nodes.splice(0);
    await Promise.all(nodes.map((e) => this.#stopNode(e.node!)));
  }
}

export class LocalNodes {
  readonly #pools = new Map<string, Pool>();
  readonly #all: Pool[] = [];
  /** The kinds the agent runs, in the providers' order. */
  readonly kinds: readonly string[];

  constructor(providers: readonly ComputeProvider<any>[], onError: (error: unknown) => void) {
    for (const provider of providers) {
      const pool = new Pool(provider, onError);
      this.#all.push(pool);
      // The first provider listing a kind runs it.
      for (const kind of provider.kinds ?? ["function"]) if (!this.#pools.has(kind)) this.#pools.set(kind, pool);
    }
    this.kinds = [...this.#pools.keys()];
  }

  runs(kind: string): boolean {
    return this.#pools.has(kind);
  }

  run(kind: string, body: unknown, ctxFor: (node: ProviderNode) => TaskContext<any>, signal: AbortPoint): Promise<unknown> {
    return this.#pools.get(kind)!.run(body, ctxFor, signal);
  }

  /** Stops every node (their providers kill what still runs on them). */
  async stop(): Promise<void> {
    await Promise.all(this.#all.map((pool) => pool.stop()));
  }
}
