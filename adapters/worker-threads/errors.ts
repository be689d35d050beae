/**
 * The errors of flotilla/worker-threads: its declared code (E_WORKER_FAILED), the errors for a task
 * whose module, export, input or output was the problem, and the thrown values a thread sends back,
 * made errors again on this side.
 */
import { FlotillaError, NodeLostError, messageOf } from "../../src/errors.ts";
import { closest } from "../../src/validation.ts";
import { declareErrorCodes } from "../../src/vocabulary.ts";
import { findUncloneable, type ErrorWire, type FailureWire } from "./wire.ts";
import type { WorkerTaskSpec } from "./spec.ts";

/** The codes this adapter raises, declared as its own (see `errorCodes()` from flotilla). */
export const WORKER_THREADS_ERROR_CODES = declareErrorCodes("flotilla/worker-threads", {
  E_WORKER_FAILED: "a worker task's module or export could not be loaded, or its input, a dependency output or its output could not be cloned",
});

const { E_WORKER_FAILED } = WORKER_THREADS_ERROR_CODES;

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
  const error: Error = e.brand ? new FlotillaError(typeof code === "string" ? code : E_WORKER_FAILED, e.message) : new (BUILT_IN[e.name] ?? Error)(e.message);
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

/** The error for a task whose module, export or output was the problem. */
export function failureError(taskId: string, spec: WorkerTaskSpec, failure: FailureWire): FlotillaError {
  const name = spec.export;
  const where = `task "${taskId}"`;
  switch (failure.kind) {
    case "module": {
      const cause = reviveError(failure.error);
      const why = messageOf(cause);
      return new FlotillaError(E_WORKER_FAILED, `${where}: cannot load module ${spec.module} in a worker thread: ${why}`, { cause });
    }
    case "export": {
      const hint = closest(name, failure.exports);
      const exports = failure.exports.length > 0 ? failure.exports.join(", ") : "(none)";
      return new FlotillaError(
        E_WORKER_FAILED,
        `${where}: module ${spec.module} has no export "${name}"${hint ? ` (did you mean "${hint}"?)` : ""}; its exports: ${exports}`,
      );
    }
    case "type":
      return new FlotillaError(E_WORKER_FAILED, `${where}: export "${name}" of module ${spec.module} is ${failure.type}, not a function`);
    case "clone":
      return new FlotillaError(
        E_WORKER_FAILED,
        `${where}: the output of export "${name}" (module ${spec.module}) cannot be sent back from the worker thread: ${failure.path} is ${failure.what}`,
        { cause: new Error(failure.message) },
      );
  }
}

/** The error of an attempt whose input or dependency outputs could not be cloned to the thread. */
export function inputError(taskId: string, spec: WorkerTaskSpec, input: unknown, deps: unknown, cloneError: unknown): FlotillaError {
  const where = `task "${taskId}"`;
  const options = { cause: cloneError };
  const found = findUncloneable(input, "input");
  if (found !== undefined) {
    return new FlotillaError(
      E_WORKER_FAILED,
      `${where}: the input of its workerTask (export "${spec.export}" of ${spec.module}) cannot be sent to a worker thread: ${found[0]} is ${found[1]}`,
      options,
    );
  }
  if (typeof deps === "object" && deps !== null) {
    for (const [id, output] of Object.entries(deps)) {
      const inDep = findUncloneable(output, `deps.${id}`);
      if (inDep !== undefined) {
        return new FlotillaError(
          E_WORKER_FAILED,
          `${where}: the output of its dependency "${id}" cannot be sent to a worker thread: ${inDep[0]} is ${inDep[1]}`,
          options,
        );
      }
    }
  }
  return new FlotillaError(E_WORKER_FAILED, `${where}: its input or dependency outputs cannot be sent to a worker thread: ${messageOf(cloneError)}`, options);
}

/** A node whose thread could not be started again (after an idle timeout or a terminate) loses the attempt. */
export function threadStartError(nodeId: string, taskId: string, error: unknown): NodeLostError {
  return new NodeLostError(nodeId, `node "${nodeId}" could not start a worker thread for task "${taskId}": ${messageOf(error)}`, { cause: error });
}

/** Node refuses an `execArgv` flag only when a thread starts; a refused flag will be refused every time. */
export function execArgvError(error: unknown): FlotillaError | undefined {
  if ((error as { code?: unknown } | null)?.code !== "ERR_WORKER_INVALID_EXEC_ARGV") return undefined;
  return new FlotillaError("E_INVALID_OPTION", `workerThreads(): option "execArgv" is refused by worker threads: ${(error as Error).message}`, {
    cause: error,
  });
}
