/** Turns what a worker thread sent back about a failure into the error the attempt rejects with. */
import { FlotillaError, messageOf, type ErrorCode } from "../../src/errors.ts";
import { closest } from "../../src/validation.ts";
import type { ErrorWire, FailureWire } from "./wire.ts";
import type { WorkerTaskSpec } from "./worker-task.ts";

const BUILT_IN: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * The thrown value again: an error keeps its name, message, the worker's stack, its cloneable own
 * properties (`code`, ...) and its cause; a flotilla error keeps its brand, so `instanceof
 * TimeoutError` and `isFlotillaError(e, code)` still hold on this side.
 */
export function reviveError(wire: ErrorWire): unknown {
  if (!("error" in wire)) return wire.value;
  const e = wire.error;
  const code = e.props?.code;
  const error: Error = e.brand
    ? new FlotillaError(typeof code === "string" ? (code as ErrorCode) : "E_WORKER_FAILED", e.message)
    : new (BUILT_IN[e.name] ?? Error)(e.message);
  if (error.name !== e.name) Object.defineProperty(error, "name", { value: e.name, configurable: true, writable: true });
  if (e.stack !== undefined) Object.defineProperty(error, "stack", { value: e.stack, configurable: true, writable: true });
  if (e.props !== undefined) {
    for (const [key, value] of Object.entries(e.props)) {
      Object.defineProperty(error, key, { value, configurable: true, writable: true, enumerable: true });
    }
  }
  if (e.cause !== undefined) Object.defineProperty(error, "cause", { value: reviveError(e.cause), configurable: true, writable: true });
  return error;
}

/** The error for a task whose module, export or output was the problem (code E_WORKER_FAILED). */
export function failureError(taskId: string, spec: WorkerTaskSpec, failure: FailureWire): FlotillaError {
  const name = spec.export;
  const where = `task "${taskId}"`;
  switch (failure.kind) {
    case "module": {
      const cause = reviveError(failure.error);
      const why = messageOf(cause);
      return new FlotillaError("E_WORKER_FAILED", `${where}: cannot load module ${spec.module} in a worker thread: ${why}`, { cause });
    }
    case "export": {
      const hint = closest(name, failure.exports);
      const exports = failure.exports.length > 0 ? failure.exports.join(", ") : "(none)";
      return new FlotillaError("E_WORKER_FAILED", `${where}: module ${spec.module} has no export "${name}"${hint ? ` (did you mean "${hint}"?)` : ""}; its exports: ${exports}`);
    }
    case "type":
      return new FlotillaError("E_WORKER_FAILED", `${where}: export "${name}" of module ${spec.module} is ${failure.type}, not a function`);
    case "clone":
      return new FlotillaError(
        "E_WORKER_FAILED",
        `${where}: the output of export "${name}" (module ${spec.module}) cannot be sent back from the worker thread: ${failure.path} is ${failure.what}`,
        { cause: new Error(failure.message) },
      );
  }
}
