/**
 * One node position of a pool: its node started on demand, replaced when lost, a failed start retried with
 * backoff (100, 200, 400 ms) before the run gives up, and every node started eventually stopped.
 * The run waits for its provider only so long: a start still in flight when the run ends is aborted
 * (through `report.signal`) and waited for at most `stopTimeoutMs`, as is each stop; past that the
 * run settles and the provider's silence is reported (a node that arrives later is still stopped).
 * The executor decides what a lost node means for its attempts; this class only keeps the node.
 */
import { CancelledError, FlotillaError, describe, isFlotillaError } from "./errors.ts";
import type { ComputeProvider, NodePriority, NodeReport, ProviderNode } from "./provider.ts";
import type { FaultAction, FaultPoint, Runtime, TimerHandle } from "./runtime.ts";
import { thenOf } from "./thenable.ts";

const MAX_START_RETRIES = 3;

export interface NodeKeeperHost {
  readonly runtime: Runtime;
  readonly provider: ComputeProvider<any>;
  /** Consults a fault point (undefined when the runtime injects no faults). */
  readonly fault: ((point: FaultPoint) => FaultAction | undefined) | undefined;
  /** Whether a node is still wanted (the run goes on and has work left). */
  wanted(): boolean;
  /**
   * Whether a start may go now (a shared pool's bound counts nodes still stopping, and starts given
   * up on that the provider has not finished). A start held back leaves the keeper idle; its pool
   * starts it again when there is room.
   */
  mayStart(): boolean;
  /** A node is up. */
  ready(node: ProviderNode): void;
  /** No node could be started, retries included. */
  failed(error: unknown): void;
  /** The provider reported the node in use lost (between attempts, or under them). */
  lost(node: ProviderNode, reason: unknown): void;
  /** The provider reported the node in use preempted (a low-priority node taken back). */
  preempted(node: ProviderNode, reason: unknown): void;
  /** The node in use queues more attempts than before (`NodeReport.prefetch`): the runs may place more. */
  roomGrew(): void;
  /**
   * Nodes counted from the start request until their stop finished (+1 at a start, -1 when a start
   * ends without a node or a node's stop finished): what node-seconds are measured on.
   */
  meter(delta: 1 | -1, priority: NodePriority): void;
  /** A start not done within it is aborted and counts as a failed start (Infinity: no bound). */
  readonly startTimeoutMs: number;
  /** A trace label for the retry timer, under a controlled runtime. */
  readonly retryLabel: string | undefined;
  /** A trace label for the timer bounding a wait on the provider, under a controlled runtime. */
  readonly boundLabel: string | undefined;
  /** The longest the end of the run waits for a start in flight or for a stop. */
  readonly stopTimeoutMs: number;
  /** A provider call failed or did not answer in time, where nothing else reports it (stops, late starts). */
  providerError(operation: "startNode" | "stopNode", nodeId: string | undefined, error: unknown): void;
}

const NOT_ABORTED = Symbol("not aborted");

/**
 * What a node start hands the provider. Its `signal` is made when first read: an AbortController
 * per start cost every run ~10 µs under explore(), which starts a run per schedule (measured: a
 * 1-task run 21 -> 12 µs), most of it garbage collection, since Node's AbortSignals survive
 * young-generation collections; an in-process provider never reads it. `signal` stays an own,
 * enumerable property (one getter shared by every report); read after the start was aborted, it is
 * already aborted, with the reason.
 */
class StartReport implements NodeReport {
  readonly lost: (reason?: unknown) => void;
  readonly preempted: (reason?: unknown) => void;
  readonly prefetch: (n: number) => void;
  readonly priority: NodePriority;
  readonly runtime: Runtime;
  declare readonly signal: AbortSignal;
  #controller: AbortController | undefined = undefined;
  #reason: unknown = NOT_ABORTED;

  static readonly #SIGNAL: PropertyDescriptor = {
    get(this: StartReport): AbortSignal {
      if (this.#controller === undefined) {
        this.#controller = new AbortController();
        if (this.#reason !== NOT_ABORTED) this.#controller.abort(this.#reason);
      }
      return this.#controller.signal;
    },
    enumerable: true,
    configurable: true,
  };

  constructor(
    lost: (reason?: unknown) => void,
    preempted: (reason?: unknown) => void,
    prefetch: (n: number) => void,
    priority: NodePriority,
    runtime: Runtime,
  ) {
    this.lost = lost;
    this.preempted = preempted;
    this.prefetch = prefetch;
    this.priority = priority;
    this.runtime = runtime;
    Object.defineProperty(this, "signal", StartReport.#SIGNAL);
  }

  /** The run no longer wants this start's node. */
  abort(reason: unknown): void {
    if (this.#reason !== NOT_ABORTED) return;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

export class NodeKeeper {
  /** The node in use, if one is up. */
  node: ProviderNode | undefined = undefined;
  /** The node's `prefetch` (attempts it queues beyond its slots): read when it came up, changed by `report.prefetch(n)`. */
  prefetch = 0;
  /**
   * The largest `prefetch` the node had before a shrink: attempts it queued then still count as room
   * (node-pool.ts `roomOf`, what explore()'s over-commit check reads) until they are gone.
   */
  heldPrefetch = 0;
  /** When the start in flight (its first try, if retried) began, on the pool's clock. */
  startingSince = 0;

  readonly #host: NodeKeeperHost;
  readonly #stopping = new Set<Promise<void>>();
  /** Starts given up on (timed out) that the provider has not finished yet (made at the first). */
  #late: Set<Promise<void>> | undefined = undefined;
  #starting: Promise<void> | undefined = undefined;
  /** Aborts the start in flight (the run no longer wants its node). */
  #startAbort: StartReport | undefined = undefined;
  #retry: TimerHandle | undefined = undefined;
  #failures = 0;
  #closed = false;
  /** Every start failed, retries included: no more starts in this run. */
  gaveUp = false;
  /** Let go by its pool (scaled down, start given up, pool closed): it takes no more work, and is closed. */
  retired = false;
  /** The kind of node this position asks for (set by its pool before a start). */
  priority: NodePriority = "dedicated";
  /** The kind of the node in use (what its start asked for). */
  #nodePriority: NodePriority = "dedicated";
  /** Bounds the start in flight (`startTimeoutMs`). */
  #startTimer: TimerHandle | undefined = undefined;

  constructor(host: NodeKeeperHost) {
    this.#host = host;
  }

  /** A start is in flight, or waits to be retried. */
  get starting(): boolean {
    return this.#starting !== undefined || this.#retry !== undefined;
  }

  /** Starts a node unless one is up or on its way. */
  start(): void {
    if (this.node !== undefined || this.#starting !== undefined || this.#retry !== undefined || this.#closed || this.gaveUp) return;
    if (!this.#host.mayStart()) return;
    if (this.#failures === 0) this.startingSince = this.#host.runtime.now();
    let started: ProviderNode | PromiseLike<ProviderNode>;
    // Bound to the node this start brings up; a report about a node no longer in use is ignored.
    let mine: ProviderNode | undefined;
    /** A `report.prefetch(n)` made before the node was handed over. */
    let pending: number | undefined;
    const host = this.#host;
    const report = new StartReport(
      (reason) => {
        if (mine !== undefined && this.node === mine) host.lost(mine, reason);
      },
      (reason) => {
        if (mine !== undefined && this.node === mine) host.preempted(mine, reason);
      },
      (n) => {
        if (!(Number.isInteger(n) && n >= 0)) {
          const which = mine === undefined ? "a node it is starting" : `node "${mine.id}"`;
          throw prefetchError(`provider "${host.provider.name}" reported "prefetch" ${describe(n)} for ${which}`);
        }
        if (mine === undefined)
          pending = n; // the start has not handed the node over yet: applied when it does
        else if (this.node === mine) this.#resize(n); // (a report about a node no longer in use is ignored)
      },
      this.priority,
      host.runtime,
    );
    // Counted under the kind asked for, until this start's node is stopped (the position may ask for another kind by then).
    const priority = this.priority;
    host.meter(1, priority);
    const use = (node: ProviderNode) => {
      mine = node;
      this.#use(node, priority);
      if (pending !== undefined && this.node === node) this.#resize(pending);
    };
    let later: boolean;
    try {
      this.#injectFault("node.start", "starting a node");
      started = this.#host.provider.startNode(report);
      later = thenOf(started) !== undefined; // (a `then` getter may throw: that start failed)
    } catch (error) {
      host.meter(-1, priority);
      this.#startFailed(error);
      return;
    }
    if (!later) {
      use(started as ProviderNode);
      return;
    }
    this.#startAbort = report;
    const starting: Promise<void> = Promise.resolve(started).then(
      (node) => {
        // Not the start in flight any more: it timed out, or the keeper was closed meanwhile.
        if (!this.#settledStart(starting) || this.#closed) this.stop(node, priority);
        else use(node);
      },
      (error) => {
        host.meter(-1, priority);
        if (this.#settledStart(starting)) this.#startFailed(error);
      },
    );
    this.#starting = starting;
    if (host.startTimeoutMs !== Infinity) {
      this.#startTimer = host.runtime.setTimer(
        host.startTimeoutMs,
        () => {
          this.#startTimer = undefined;
          if (this.#starting !== starting) return;
          const error = new FlotillaError(
            "E_TIMEOUT",
            `provider "${host.provider.name}" did not start a node within ${host.startTimeoutMs} ms (pool option startTimeoutMs)`,
          );
          report.abort(error);
          this.#settledStart(starting);
          // Still the provider's to finish (a VM it makes meanwhile is stopped): close() waits for it.
          const late = (this.#late ??= new Set());
          late.add(starting);
          void starting.then(() => late.delete(starting));
          this.#startFailed(error);
        },
        host.boundLabel,
      );
    }
  }

  /** The node is gone: it is no longer used, and it is stopped. (`start()` brings a replacement.) */
  forget(node: ProviderNode): void {
    if (this.node !== node) return;
    this.node = undefined;
    this.stop(node, this.#nodePriority);
  }

  /**
   * Stops a node; `close()` waits for every stop, each for at most `stopTimeoutMs`. A stop that fails
   * or does not answer is reported; the run's outcome stands whatever the provider says here.
   */
  stop(node: ProviderNode, priority: NodePriority): void {
    const stopping = (async () => {
      try {
        this.#injectFault("provider.call", `stopping node "${node.id}"`);
        const stopped = this.#host.provider.stopNode(node);
        if (thenOf(stopped) !== undefined) await this.#bounded(stopped as PromiseLike<void>, `stopping node "${node.id}"`);
      } catch (error) {
        this.#host.providerError("stopNode", (node as { id?: unknown })?.id as string | undefined, error);
      }
      this.#host.meter(-1, priority);
    })();
    this.#stopping.add(stopping);
    void stopping.then(() => this.#stopping.delete(stopping));
  }

  /** At the end of the run: no more starts, the node stopped, every stop finished. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry !== undefined) this.#host.runtime.clearTimer(this.#retry);
    this.#retry = undefined;
    if (this.#startTimer !== undefined) this.#host.runtime.clearTimer(this.#startTimer);
    this.#startTimer = undefined;
    if (this.#starting !== undefined) {
      this.#startAbort?.abort(
        new CancelledError(
          `the node being started by provider "${this.#host.provider.name}" is no longer needed (the run ended, or its pool scaled down or closed)`,
          "cancel",
          undefined,
        ),
      );
      try {
        await this.#bounded(this.#starting, "starting a node");
      } catch (error) {
        this.#host.providerError("startNode", undefined, error);
      }
    }
    if (this.node !== undefined) this.stop(this.node, this.#nodePriority);
    this.node = undefined;
    for (const late of this.#late ?? []) {
      try {
        await this.#bounded(late, "starting a node it was no longer waiting for");
      } catch (error) {
        this.#host.providerError("startNode", undefined, error);
      }
    }
    await Promise.all(this.#stopping);
  }

  /** The start `starting` is over; false when it was no longer the start in flight (timed out, or closed). */
  #settledStart(starting: Promise<void>): boolean {
    if (this.#starting !== starting) return false;
    this.#starting = undefined;
    this.#startAbort = undefined;
    if (this.#startTimer !== undefined) this.#host.runtime.clearTimer(this.#startTimer);
    this.#startTimer = undefined;
    return true;
  }

  /** Waits for `call` at most `stopTimeoutMs` (on the run's clock); rejects with E_TIMEOUT past it. */
  #bounded(call: PromiseLike<unknown>, what: string): Promise<unknown> {
    const { runtime, stopTimeoutMs, provider } = this.#host;
    let timer: unknown;
    const late = new Promise<never>((_, reject) => {
      timer = runtime.setTimer(
        stopTimeoutMs,
        () =>
          reject(
            new FlotillaError(
              "E_TIMEOUT",
              `provider "${provider.name}" did not finish ${what} within ${stopTimeoutMs} ms (run option stopTimeoutMs); the run went on without it`,
            ),
          ),
        this.#host.boundLabel,
      );
    });
    return Promise.race([call, late]).finally(() => runtime.clearTimer(timer));
  }

  #use(node: ProviderNode, priority: NodePriority): void {
    let id: unknown;
    let slots: unknown;
    let prefetch: unknown;
    try {
      if (typeof node === "object" && node !== null) ({ id, slots, prefetch } = node);
    } catch (error) {
      this.#host.meter(-1, priority);
      this.#startFailed(error); // a node whose `id`, `slots` or `prefetch` getter throws
      return;
    }
    if (typeof id !== "string" || !(slots === Infinity || (Number.isInteger(slots) && (slots as number) >= 1))) {
      this.#host.meter(-1, priority);
      this.#startFailed(
        new FlotillaError(
          "E_INVALID_OPTION",
          `provider "${this.#host.provider.name}" started a node that is not { id: string, slots: integer >= 1 or Infinity }: received ${node === null || typeof node !== "object" ? describe(node) : `{ id: ${describe(id)}, slots: ${describe(slots)} }`}`,
        ),
      );
      return;
    }
    if (prefetch !== undefined && !(Number.isInteger(prefetch) && (prefetch as number) >= 0)) {
      this.#host.meter(-1, priority);
      this.#startFailed(prefetchError(`provider "${this.#host.provider.name}" started node "${id}" with "prefetch" ${describe(prefetch)}`, " or left out"));
      return;
    }
    this.node = node;
    this.prefetch = (prefetch as number | undefined) ?? 0;
    this.heldPrefetch = 0;
    this.#nodePriority = priority;
    this.#failures = 0;
    this.#host.ready(node);
  }

  /** The node in use queues up to `n` attempts from now on (`NodeReport.prefetch`). */
  #resize(n: number): void {
    if (n === this.prefetch) return;
    if (n > this.prefetch) {
      this.prefetch = n;
      this.#host.roomGrew();
      return;
    }
    this.heldPrefetch = Math.max(this.heldPrefetch, this.prefetch);
    this.prefetch = n;
  }

  #startFailed(error: unknown): void {
    if (this.#closed) return;
    // A start refused for a bad option (or a malformed node) fails the same way every time: no retries.
    const permanent = isFlotillaError(error, "E_INVALID_OPTION");
    if (!permanent && this.#failures++ < MAX_START_RETRIES && this.#host.wanted()) {
      this.#retry = this.#host.runtime.setTimer(
        100 * 2 ** (this.#failures - 1),
        () => {
          this.#retry = undefined;
          if (this.#host.wanted()) this.start();
        },
        this.#host.retryLabel,
      );
      return;
    }
    this.gaveUp = true;
    this.#host.failed(error);
  }

  /** Throws the injected error when `node.start` (for starts) or `provider.call` fires. */
  #injectFault(point: "node.start" | "provider.call", what: string): void {
    const fault = this.#host.fault;
    if (fault === undefined) return;
    const action = (point === "node.start" ? fault("node.start") : undefined) ?? fault("provider.call");
    if (action?.kind === "fail") throw action.error ?? new Error(`injected fault while ${what} (provider "${this.#host.provider.name}")`);
  }
}

/** A node's `prefetch`, at its start or through `NodeReport.prefetch`, is not an integer >= 0 (`what` says whose and where). */
function prefetchError(what: string, orLeftOut = ""): FlotillaError {
  return new FlotillaError("E_INVALID_OPTION", `${what}: it must be an integer >= 0 (attempts the node queues beyond its slots)${orLeftOut}`);
}
