/**
 * What crosses between the main thread and a worker thread, and the two helpers both sides use.
 *
 * Messages are flat arrays, one per batch, so a batch of many tasks costs one structured clone and
 * one message event instead of one per task:
 *
 * - main -> worker: records `[DEFINE, fnId, href, exportName]`, `[RUN, callId, fnId, input, deps,
 *   failures, attempt, taskId]` (`deps` and `failures` undefined when empty; failures as `ErrorWire`s),
 *   `[SKIP, ...7 ignored]` (a RUN cancelled before it was posted), `[ABORT, callId, reason]`;
 * - worker -> main: triples `[callId, status, value]` with status OK (value: the output), THREW (an
 *   `ErrorWire`), FAILED (a `FailureWire`: the module, the export or the output was the problem), LOG
 *   (a line for `ctx.log`); and `[fnId, LOADED, undefined]`, once per function and thread, posted as
 *   soon as the function is loaded and before any body of it runs.
 *
 * `findUncloneable` and `toErrorWire` run on both sides: the worker gets their source text (see
 * thread-script.ts), so they must not reference anything outside their own bodies.
 */

export const DEFINE = 0;
export const RUN = 1;
export const SKIP = 2;
export const ABORT = 3;
/** Record lengths by op. */
export const RECORD_LENGTH = [4, 8, 8, 3] as const;

export const OK = 0;
export const THREW = 1;
export const FAILED = 2;
export const LOG = 3;
export const LOADED = 4;

/** A thrown value made cloneable: an error's parts, or the value itself (or its string form). */
export type ErrorWire =
  | {
      readonly error: {
        readonly name: string;
        readonly message: string;
        readonly stack: string | undefined;
        /** It carried flotilla's error brand (a FlotillaError or subclass). */
        readonly brand: boolean;
        /** Own enumerable properties that could be cloned (`code`, `taskId`, ...). */
        readonly props: Record<string, unknown> | undefined;
        readonly cause: ErrorWire | undefined;
      };
    }
  | { readonly value: unknown };

/** Why a task failed for a reason of its spec rather than of its body. */
export type FailureWire =
  | { readonly kind: "module"; readonly error: ErrorWire }
  | { readonly kind: "export"; readonly exports: string[] }
  | { readonly kind: "type"; readonly type: string }
  | { readonly kind: "clone"; readonly path: string; readonly what: string; readonly message: string };

/**
 * Where in `value` the first part that structured clone refuses is, as `[path, what]`
 * (`["output.items[2].save", "a function"]`), or undefined when `value` clones. Only used once a
 * clone has failed, so it may be slow. (Self-contained, like `toErrorWire`: the thread gets both as
 * source text, so neither may call a helper of this module; hence each has its own clone probe.)
 */
export function findUncloneable(value: unknown, path: string): [string, string] | undefined {
  const probe = (v: unknown): boolean => {
    try {
      structuredClone(v);
      return true;
    } catch {
      return false;
    }
  };
  const seen = new Set<unknown>();
  const walk = (v: unknown, at: string, depth: number): [string, string] | undefined => {
    if (typeof v === "function") return [at, `a function${v.name ? ` (${v.name})` : ""}`];
    if (typeof v === "symbol") return [at, "a symbol"];
    if (typeof v !== "object" || v === null || probe(v)) return undefined;
    if (seen.has(v) || depth > 32) return undefined;
    seen.add(v);
    if (v instanceof Map) {
      for (const [k, item] of v) {
        const found = walk(k, `${at} (a Map key)`, depth + 1) ?? walk(item, `${at}.get(${typeof k === "string" ? JSON.stringify(k) : String(k)})`, depth + 1);
        if (found !== undefined) return found;
      }
    } else if (v instanceof Set) {
      for (const item of v) {
        const found = walk(item, `${at} (a Set item)`, depth + 1);
        if (found !== undefined) return found;
      }
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const found = walk(v[i], `${at}[${i}]`, depth + 1);
        if (found !== undefined) return found;
      }
    } else {
      const proto = Object.getPrototypeOf(v);
      const plain = proto === Object.prototype || proto === null || v instanceof Error;
      if (plain) {
        for (const key of Object.keys(v)) {
          const found = walk((v as Record<string, unknown>)[key], /^[A-Za-z_$][\w$]*$/.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key)}]`, depth + 1);
          if (found !== undefined) return found;
        }
      }
    }
    const name = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    return [at, typeof name === "string" && name.length > 0 ? `a ${name}` : "an object structured clone refuses"];
  };
  return walk(value, path, 0);
}

/** A thrown value in a form that structured clone takes, keeping what `describe`s an error. */
export function toErrorWire(thrown: unknown, depth = 0): ErrorWire {
  const probe = (v: unknown): boolean => {
    try {
      structuredClone(v);
      return true;
    } catch {
      return false;
    }
  };
  const e = thrown as { name?: unknown; message?: unknown; stack?: unknown; cause?: unknown } | null;
  const isError = thrown instanceof Error || (typeof e === "object" && e !== null && typeof e.message === "string" && typeof e.name === "string");
  if (!isError) {
    if (typeof thrown !== "object" && typeof thrown !== "function" && typeof thrown !== "symbol") return { value: thrown };
    return { value: probe(thrown) ? thrown : String(thrown) };
  }
  let props: Record<string, unknown> | undefined;
  for (const key of Object.keys(e!)) {
    if (key === "name" || key === "message" || key === "stack" || key === "cause") continue;
    const v = (e as Record<string, unknown>)[key];
    // No prototype: a property called "__proto__" is kept like any other.
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean" || v === undefined || v === null || probe(v))
      (props ??= Object.create(null) as Record<string, unknown>)[key] = v;
  }
  return {
    error: {
      name: String(e!.name),
      message: String(e!.message),
      stack: typeof e!.stack === "string" ? e!.stack : undefined,
      brand: Symbol.for("flotilla.error") in e!,
      props,
      cause: "cause" in e! && e!.cause !== undefined && depth < 4 ? toErrorWire(e!.cause, depth + 1) : undefined,
    },
  };
}
