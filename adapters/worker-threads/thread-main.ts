/**
 * The code that runs inside each worker thread. It is not imported there: its source text becomes
 * the worker's eval script (thread-script.ts), so it must reference nothing outside its own body but
 * its parameters, the worker's globals and `require` (which both Node and Deno give an eval worker).
 * The op codes are repeated as literals for the same reason; wire.ts documents them.
 */
import type { ErrorWire, FailureWire } from "./wire.ts";

type Fn = (input: unknown, ctx: unknown) => unknown;

export function threadMain(findUncloneable: (value: unknown, path: string) => [string, string] | undefined, toErrorWire: (thrown: unknown) => ErrorWire): void {
  const { parentPort } = require("node:worker_threads") as typeof import("node:worker_threads");
  const port = parentPort!;
  const NOT_ABORTED = Symbol("not aborted");
  const EMPTY = Object.freeze({});

  /** The functions by id: a function once loaded, a promise of one while loading. */
  const fns: (Fn | Promise<Fn>)[] = [];
  const modules = new Map<string, Promise<Record<string, unknown>>>();
  /** Calls that have started and not replied, for aborts. */
  const live = new Map<number, Ctx>();

  let out: unknown[] = [];
  let flushQueued = false;
  /** Flushes at the end of the microtask burst; cheaper than queueMicrotask (no AsyncResource per call). */
  const resolved = Promise.resolve();

  function flush(): void {
    flushQueued = false;
    if (out.length === 0) return;
    const batch = out;
    out = [];
    try {
      port.postMessage(batch);
    } catch {
      // Some output (or error) did not clone: send the triples one by one and fail only those.
      for (let i = 0; i < batch.length; i += 3) {
        const id = batch[i] as number;
        const status = batch[i + 1] as number;
        const value = batch[i + 2];
        try {
          port.postMessage([id, status, value]);
        } catch (error) {
          if (status === 0) {
            const [path, what] = findUncloneable(value, "output") ?? ["output", "a value structured clone refuses"];
            const failure: FailureWire = { kind: "clone", path, what, message: String((error as Error)?.message ?? error) };
            port.postMessage([id, 2, failure]);
          } else {
            const e = value as ErrorWire;
            const lean = "error" in e ? { error: { ...e.error, props: undefined, cause: undefined } } : { value: String(e.value) };
            port.postMessage([id, status, lean]);
          }
        }
      }
    }
  }

  function reply(id: number, status: number, value: unknown): void {
    out.push(id, status, value);
    if (!flushQueued) {
      flushQueued = true;
      resolved.then(flush);
    }
  }

  /** The context an export receives; the AbortController is made only if the body reads `signal`. */
  class Ctx {
    readonly id: number;
    readonly taskId: string;
    readonly attempt: number;
    readonly deps: unknown;
    reason: unknown = NOT_ABORTED;
    /** The export was called (until then an abort settles the call at once). */
    invoked = false;
    #controller: AbortController | undefined = undefined;
    #failures: Record<string, ErrorWire> | Record<string, unknown> | undefined;
    #revived = false;
    constructor(id: number, taskId: string, attempt: number, deps: unknown, failures: Record<string, ErrorWire> | undefined) {
      this.id = id;
      this.taskId = taskId;
      this.attempt = attempt;
      this.deps = deps ?? EMPTY;
      this.#failures = failures;
    }
    /** Errors of dependencies that failed with onFailure "satisfy", rebuilt on first read. */
    get failures(): Record<string, unknown> {
      if (this.#failures === undefined) return EMPTY;
      if (!this.#revived) {
        // Defined, not assigned: a dependency may be called "__proto__". (A plain object, as in-process.)
        const revived: Record<string, unknown> = {};
        for (const [id, wire] of Object.entries(this.#failures as Record<string, ErrorWire>)) {
          Object.defineProperty(revived, id, { value: revive(wire), configurable: true, writable: true, enumerable: true });
        }
        this.#failures = revived;
        this.#revived = true;
      }
      return this.#failures;
    }
    get signal(): AbortSignal {
      if (this.#controller === undefined) {
        this.#controller = new AbortController();
        if (this.reason !== NOT_ABORTED) this.#controller.abort(this.reason);
      }
      return this.#controller.signal;
    }
    get log(): (line: string) => void {
      return (line) => {
        if (live.get(this.id) !== this) return;
        // At once, not at the end of the microtask burst: a synchronous body may run for long.
        out.push(this.id, 3, String(line));
        flush();
      };
    }
    abort(reason: unknown): void {
      if (this.reason !== NOT_ABORTED) return;
      this.reason = reason;
      this.#controller?.abort(reason);
    }
  }

  function settle(ctx: Ctx, status: number, value: unknown): void {
    if (live.get(ctx.id) !== ctx) return;
    live.delete(ctx.id);
    reply(ctx.id, status, value);
  }

  function invoke(fn: Fn, ctx: Ctx, input: unknown): void {
    ctx.invoked = true;
    let value: unknown;
    try {
      value = fn(input, ctx);
    } catch (error) {
      settle(ctx, 1, toErrorWire(error));
      return;
    }
    // The thenable rule of core's src/thenable.ts, written out: this code can import nothing.
    if (value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as PromiseLike<unknown>).then === "function") {
      Promise.resolve(value as PromiseLike<unknown>).then(
        (output) => settle(ctx, 0, output),
        (error) => settle(ctx, 1, toErrorWire(error)),
      );
    } else {
      settle(ctx, 0, value);
    }
  }

  function define(fnId: number, href: string, name: string): void {
    let loading = modules.get(href);
    if (loading === undefined) {
      loading = import(href) as Promise<Record<string, unknown>>;
      modules.set(href, loading);
    }
    const fn = loading.then(
      (ns) => {
        if (!(name in ns)) throw { kind: "export", exports: Object.keys(ns) } satisfies FailureWire;
        const f = ns[name];
        if (typeof f !== "function") throw { kind: "type", type: f === null ? "null" : Array.isArray(f) ? "an array" : `a ${typeof f}` } satisfies FailureWire;
        fns[fnId] = f as Fn;
        // LOADED, at once rather than at the end of the burst: the bodies waiting for this function run
        // next, and a synchronous one would hold the message back. Until the main thread has it, an
        // aborted attempt of this function is not blamed for the thread's silence (attempt.ts, renewsGrace).
        out.push(fnId, 4, undefined);
        flush();
        return f as Fn;
      },
      (error) => {
        throw { kind: "module", error: toErrorWire(error) } satisfies FailureWire;
      },
    );
    fn.catch(() => {}); // the failure is reported to each call that uses it
    fns[fnId] = fn;
  }

  function start(
    id: number,
    fnId: number,
    input: unknown,
    deps: unknown,
    failures: Record<string, ErrorWire> | undefined,
    attempt: number,
    taskId: string,
  ): void {
    const ctx = new Ctx(id, taskId, attempt, deps, failures);
    live.set(id, ctx);
    const fn = fns[fnId];
    if (typeof fn === "function") {
      invoke(fn, ctx, input);
      return;
    }
    fn!.then(
      (f) => {
        // Aborted while its module loaded: the body never starts.
        if (ctx.reason !== NOT_ABORTED) settle(ctx, 1, toErrorWire(ctx.reason));
        else if (live.get(id) === ctx) invoke(f, ctx, input);
      },
      (failure: FailureWire) => settle(ctx, 2, failure),
    );
  }

  /** An error from the main thread (an abort reason, a dependency's failure) as an Error here. */
  function revive(wire: ErrorWire): unknown {
    if (!("error" in wire)) return wire.value;
    const e = wire.error;
    const error = new Error(e.message);
    Object.defineProperty(error, "name", { value: e.name, configurable: true, writable: true });
    if (e.stack !== undefined) Object.defineProperty(error, "stack", { value: e.stack, configurable: true, writable: true });
    if (e.props !== undefined) {
      for (const [key, value] of Object.entries(e.props)) Object.defineProperty(error, key, { value, configurable: true, writable: true, enumerable: true });
    }
    if (e.cause !== undefined) Object.defineProperty(error, "cause", { value: revive(e.cause), configurable: true, writable: true });
    // The brand makes `instanceof CancelledError` / `TimeoutError` hold in a body that imports flotilla.
    if (e.brand) Object.defineProperty(error, Symbol.for("flotilla.error"), { value: true });
    return error;
  }

  port.on("message", (batch: unknown[]) => {
    const n = batch.length;
    let i = 0;
    while (i < n) {
      const op = batch[i] as number;
      if (op === 1) {
        start(
          batch[i + 1] as number,
          batch[i + 2] as number,
          batch[i + 3],
          batch[i + 4],
          batch[i + 5] as Record<string, ErrorWire> | undefined,
          batch[i + 6] as number,
          batch[i + 7] as string,
        );
        i += 8;
      } else if (op === 0) {
        define(batch[i + 1] as number, batch[i + 2] as string, batch[i + 3] as string);
        i += 4;
      } else if (op === 3) {
        const ctx = live.get(batch[i + 1] as number);
        if (ctx !== undefined) {
          ctx.abort(revive(batch[i + 2] as ErrorWire));
          // Still waiting for its module: answer now, not when the import ends (which may be after
          // the grace period, and would cost the thread and every other attempt on it).
          if (!ctx.invoked) settle(ctx, 1, toErrorWire(ctx.reason));
        }
        i += 3;
      } else {
        i += 8; // SKIP
      }
    }
  });
}
