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
import { AbortGrace, Outcome, StartedNodes, bodyName, nodeStoppedError } from "../../src/provider-kit/index.ts";
import type { ComputeProvider, ProviderNode } from "../../src/provider.ts";
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
  /** Running attempts by node, so a stopped node settles them. */
  const running = new WeakMap<ProviderNode, Set<Call>>();
  const modules = new Map<string, Promise<Record<string, unknown>>>();
  let started = 0;
  return {
    name: NAME,
    kinds: KINDS,
    maxNodes: 1,
    startNode: () => {
      const node = nodes.add({ id: `${NAME}-${++started}`, slots });
      running.set(node, new Set());
      return node;
    },
    stopNode: (node) => {
      const ours = nodes.markStopped(node);
      if (ours === undefined) return;
      if (nodes.size === 0) modules.clear(); // a later node loads its modules afresh, as a new thread would
      for (const c of running.get(ours)!) {
        const work = `export "${c.spec.export}" of ${c.spec.module}`;
        c.outcome.reject(nodeStoppedError(ours.id, c.ctx, work, "it cannot be stopped in this thread: it runs on, its result dropped"));
      }
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
        const c = new Call(body, ctx, abandonGraceMs);
        const set = running.get(ours)!;
        set.add(c);
        c.outcome.onSettle(() => set.delete(c));
        c.start(loadExport(modules, body, ctx.taskId));
        return c.outcome.promise;
      });
    },
  };
}

/** One attempt: its outcome, and its abort (before the body runs, at once; after, at the grace's end). */
class Call {
  readonly spec: WorkerTaskSpec;
  readonly ctx: TaskContext<any>;
  readonly outcome = new Outcome<unknown>();
  readonly #grace: AbortGrace;
  #invoked = false;

  constructor(spec: WorkerTaskSpec, ctx: TaskContext<any>, graceMs: number) {
    this.spec = spec;
    this.ctx = ctx;
    this.#grace = new AbortGrace({
      graceMs,
      // A body not called yet never will be; a called one has the signal and its grace.
      stop: (reason) => void (this.#invoked || this.outcome.reject(reason)),
      escalate: () => this.outcome.reject(this.#grace.reason),
    });
    this.outcome.onSettle(() => this.#grace.release());
  }

  start(loaded: Promise<Fn>): void {
    this.#grace.watch(this.ctx);
    if (this.outcome.settled) return;
    loaded.then(
      (fn) => {
        if (this.outcome.settled) return; // aborted (or its node stopped) while the module loaded
        this.#invoked = true;
        let value: unknown;
        try {
          value = fn(this.spec.input, bodyContext(this.ctx));
        } catch (error) {
          this.outcome.reject(error);
          return;
        }
        if (thenOf(value) === undefined) this.outcome.resolve(value);
        else
          Promise.resolve(value).then(
            (output) => this.outcome.resolve(output),
            (error: unknown) => this.outcome.reject(error),
          );
      },
      (error: unknown) => this.outcome.reject(error),
    );
  }
}

/** The export, once its module has loaded (each module is imported once while the provider has a node). */
function loadExport(modules: Map<string, Promise<Record<string, unknown>>>, spec: WorkerTaskSpec, taskId: string): Promise<Fn> {
  let loading = modules.get(spec.module);
  if (loading === undefined) {
    loading = import(spec.module) as Promise<Record<string, unknown>>;
    modules.set(spec.module, loading);
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
