/**
 * `inThread()`: a provider that runs `workerTask(...)` bodies in the calling thread, with no worker
 * thread between the caller and the module. For trusted modules whose calls are short or asynchronous:
 * a flotilla agent whose tasks are tiny (the hop to a thread costs more than the work), debugging (one
 * stack, breakpoints), tests. What a thread gives, it does not: a body that blocks blocks its caller
 * (an agent's lock renewals and heartbeat with it), and a body that ignores its signal cannot be
 * stopped: `abandonGraceMs` after the abort its attempt is settled anyway, and the body runs on, its
 * result dropped.
 */
import { FlotillaError, messageOf } from "../../src/errors.ts";
import { AbortGrace, type GraceTimers, Outcome, StartedNodes, bodyName, nodeStoppedError } from "../../src/provider-kit/index.ts";
import type { ComputeProvider, ProviderNode } from "../../src/provider.ts";
import { realRuntime } from "../../src/runtime.ts";
import type { TaskContext } from "../../src/task-context.ts";
import { thenOf } from "../../src/thenable.ts";
import { checkDelayMs, checkOptionsObject, invalidOption } from "../../src/validation.ts";
import { WORKER_THREADS_ERROR_CODES, failureError } from "./errors.ts";
import { WORKER_THREAD_KIND, isWorkerTaskSpec, type WorkerTaskContext, type WorkerTaskSpec } from "./spec.ts";

/** @example inThread({ slots: 8 }) */
export interface InThreadOptions {
  /** Attempts at once on its one node. @default Infinity. Bounds: integer >= 1, or Infinity. */
  readonly slots?: number;
  /**
   * How long a cancelled or timed-out attempt's body may keep running after its signal aborted before
   * the attempt is settled with the abort's reason anyway. The body cannot be stopped in this thread:
   * it runs on, and what it returns is dropped. @default 500. Bounds: finite, >= 0.
   */
  readonly abandonGraceMs?: number;
}

const NAME = "in-thread";
const WHERE = "inThread()";
const KINDS = Object.freeze([WORKER_THREAD_KIND]);
const EMPTY = Object.freeze({});

type Fn = (input: unknown, ctx: WorkerTaskContext) => unknown;

/**
 * A compute provider with one node, this thread, that runs `workerTask(module, export, input)` bodies
 * as `fn(input, ctx)` here. Input, dependency outputs and output are passed as they are, not cloned.
 * Throws E_INVALID_OPTION for a bad option.
 *
 * @example
 * // an agent whose trusted modules run in its own thread
 * await startAgent({ connection, queue: "builds", modules, concurrency: 8, providers: [inThread()] });
 */
export function inThread(options?: InThreadOptions): ComputeProvider<WorkerTaskSpec> {
  const { slots, abandonGraceMs } = resolveOptions(options);
  const nodes = new StartedNodes<ProviderNode>(NAME);
  /** Per node: its running attempts (so a stopped node settles them) and the timers of their graces. */
  const state = new WeakMap<ProviderNode, { running: Set<Call>; timers: GraceTimers }>();
  const modules = new Map<string, Promise<Record<string, unknown>>>();
  let started = 0;
  return {
    name: NAME,
    kinds: KINDS,
    maxNodes: 1,
    startNode: (report) => {
      const node = nodes.add({ id: `${NAME}-${++started}`, slots });
      // The pool's runtime when it gives one: under explore() a grace is a virtual timer.
      state.set(node, { running: new Set(), timers: report?.runtime ?? realRuntime });
      return node;
    },
    stopNode: (node) => {
      const ours = nodes.markStopped(node);
      if (ours === undefined) return;
      for (const c of state.get(ours)!.running) c.stopped(ours.id);
    },
    run: (node, body, ctx) => {
      if (!isWorkerTaskSpec(body)) {
        return Promise.reject(
          new FlotillaError(
            "E_INVALID_OPTION",
            `task "${ctx.taskId}": provider "${NAME}" runs workerTask(module, export, input) bodies (kind "${WORKER_THREAD_KIND}"), received ${bodyName(body)}`,
          ),
        );
      }
      return nodes.run(node, ctx, (ours) => {
        const { running, timers } = state.get(ours)!;
        const c = new Call(body, ctx, abandonGraceMs, timers);
        running.add(c);
        c.outcome.onSettle(() => running.delete(c));
        c.start(() => loadExport(modules, body, ctx.taskId));
        return c.outcome.promise;
      });
    },
  };
}

/**
 * One attempt: its outcome, and its abort (before the body is called, it ends at once; after, at the
 * end of its grace). As on a worker thread, an aborted attempt ends with the abort's reason, whatever
 * its body does after.
 */
class Call {
  readonly spec: WorkerTaskSpec;
  readonly ctx: TaskContext<any>;
  readonly outcome = new Outcome<unknown>();
  readonly #grace: AbortGrace;
  #invoked = false;

  constructor(spec: WorkerTaskSpec, ctx: TaskContext<any>, graceMs: number, timers: GraceTimers) {
    this.spec = spec;
    this.ctx = ctx;
    this.#grace = new AbortGrace({
      graceMs,
      timers,
      // A body not called yet never will be; a called one has the signal and its grace.
      stop: (reason) => void (this.#invoked || this.outcome.reject(reason)),
      escalate: () => this.outcome.reject(this.#grace.reason),
    });
    this.outcome.onSettle(() => this.#grace.release());
  }

  /** Loads the export (unless the attempt was aborted already) and calls it. */
  start(load: () => Promise<Fn>): void {
    this.#grace.watch(this.ctx);
    if (this.outcome.settled) return;
    load().then(
      (fn) => {
        if (this.outcome.settled) return; // aborted (or its node stopped) while the module loaded
        this.#invoked = true;
        try {
          const value = fn(this.spec.input, bodyContext(this.ctx));
          // Inside the try: a value's `then` getter may throw (the rule of core's src/thenable.ts).
          const then = thenOf(value);
          if (then === undefined) this.#ended(true, value);
          else
            then.call(
              value,
              (output) => this.#ended(true, output),
              (error: unknown) => this.#ended(false, error),
            );
        } catch (error) {
          this.#ended(false, error);
        }
      },
      (error: unknown) => this.outcome.reject(error),
    );
  }

  /** The node was stopped under it: the abort's reason if it was aborted, else the node is lost to it. */
  stopped(nodeId: string): void {
    if (this.#grace.aborted) {
      this.outcome.reject(this.#grace.reason);
      return;
    }
    const work = `export "${this.spec.export}" of ${this.spec.module}`;
    this.outcome.reject(nodeStoppedError(nodeId, this.ctx, work, "it cannot be stopped in this thread: it runs on, its result dropped"));
  }

  #ended(ok: boolean, value: unknown): void {
    if (this.#grace.aborted) this.outcome.reject(this.#grace.reason);
    else if (ok) this.outcome.resolve(value);
    else this.outcome.reject(value);
  }
}

/**
 * The export, once its module has loaded. A module is evaluated once per process (the runtime's module
 * cache, which no provider can empty): its module-level state lives on across nodes and runs, unlike
 * on a worker thread. A failed load is not kept, so a module that appears later is found.
 */
function loadExport(modules: Map<string, Promise<Record<string, unknown>>>, spec: WorkerTaskSpec, taskId: string): Promise<Fn> {
  let loading = modules.get(spec.module);
  if (loading === undefined) {
    loading = import(spec.module) as Promise<Record<string, unknown>>;
    modules.set(spec.module, loading);
    loading.catch(() => modules.delete(spec.module));
  }
  return loading.then(
    (ns) => {
      if (!(spec.export in ns)) throw failureError(taskId, spec, { kind: "export", exports: Object.keys(ns) });
      const f = ns[spec.export];
      if (typeof f !== "function") {
        throw failureError(taskId, spec, { kind: "type", type: f === null ? "null" : Array.isArray(f) ? "an array" : `a ${typeof f}` });
      }
      return f as Fn;
    },
    (error: unknown) => {
      throw new FlotillaError(WORKER_THREADS_ERROR_CODES.E_WORKER_FAILED, `task "${taskId}": cannot load module ${spec.module}: ${messageOf(error)}`, {
        cause: error,
      });
    },
  );
}

/** What the export receives: the attempt's context, as a worker thread would give it. */
function bodyContext(ctx: TaskContext<any>): WorkerTaskContext {
  return {
    taskId: ctx.taskId,
    attempt: ctx.attempt,
    get signal() {
      return ctx.signal;
    },
    deps: ctx.deps ?? EMPTY,
    failures: ctx.failures ?? EMPTY,
    log: (line) => ctx.log(String(line)),
  };
}

function resolveOptions(options: InThreadOptions | undefined): { slots: number; abandonGraceMs: number } {
  if (options === undefined) options = {};
  checkOptionsObject(WHERE, options, ["slots", "abandonGraceMs"]);
  const slots = options.slots ?? Infinity;
  if (!(slots === Infinity || (Number.isInteger(slots) && slots >= 1))) throw invalidOption(WHERE, "slots", "an integer >= 1, or Infinity", slots);
  const abandonGraceMs = options.abandonGraceMs ?? 500;
  checkDelayMs(WHERE, "abandonGraceMs", abandonGraceMs);
  return { slots, abandonGraceMs };
}
