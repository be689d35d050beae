const BRAND = /* @__PURE__ */ Symbol.for("flotilla.error");
class FlotillaError extends Error {
  code;
  constructor(code, message, options) {
    super(message, options);
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }
  get name() {
    return "FlotillaError";
  }
  /** Recognises flotilla errors from any copy of the library, in any realm. */
  static [Symbol.hasInstance](value) {
    if (typeof value !== "object" || value === null || !(BRAND in value)) return false;
    return this === FlotillaError || value.name === this.prototype.name;
  }
}
class CycleError extends FlotillaError {
  path;
  constructor(jobName, path) {
    super("E_CYCLE", `job "${jobName}" has a dependency cycle: ${path.join(" -> ")} (each task depends on the next)`);
    this.path = path;
  }
  get name() {
    return "CycleError";
  }
}
class TimeoutError extends FlotillaError {
  taskId;
  timeoutMs;
  constructor(taskId, attempt, timeoutMs) {
    super("E_TIMEOUT", `task "${taskId}" attempt ${attempt} timed out after ${timeoutMs} ms`);
    this.taskId = taskId;
    this.timeoutMs = timeoutMs;
  }
  get name() {
    return "TimeoutError";
  }
}
class CancelledError extends FlotillaError {
  reason;
  source;
  constructor(message, source, reason) {
    super("E_CANCELLED", message, reason instanceof Error ? { cause: reason } : void 0);
    this.source = source;
    this.reason = reason;
  }
  get name() {
    return "CancelledError";
  }
}
class DependencyFailedError extends FlotillaError {
  taskId;
  dependency;
  /** `dependencyStatus` is the dependency's final status: "failed", "cancelled" or "skipped". */
  constructor(taskId, dependency, dependencyStatus, cause) {
    super(
      "E_DEPENDENCY_FAILED",
      `task "${taskId}" was skipped: its dependency "${dependency}" ${dependencyStatus === "failed" ? "failed" : `was ${dependencyStatus}`}`,
      { cause }
    );
    this.taskId = taskId;
    this.dependency = dependency;
  }
  get name() {
    return "DependencyFailedError";
  }
}
class NodeLostError extends FlotillaError {
  nodeId;
  constructor(nodeId, message, options) {
    super("E_NODE_LOST", message ?? `node "${nodeId}" was lost`, options);
    this.nodeId = nodeId;
  }
  get name() {
    return "NodeLostError";
  }
}
function isFlotillaError(value, code) {
  return value instanceof FlotillaError && (code === void 0 || value.code === code);
}
function describe(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  switch (typeof value) {
    case "string":
      return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "\u2026" : value)}`;
    case "number":
    case "boolean":
    case "bigint":
      return `${typeof value} ${String(value)}`;
    case "function":
      return "function";
    case "undefined":
      return "undefined";
    default:
      return typeof value;
  }
}

const realRuntime = Object.freeze({
  now: Date.now,
  // ignores its receiver, so no wrapper call per read
  setTimer: (ms, callback) => setTimeout(callback, ms),
  clearTimer: (handle) => clearTimeout(handle),
  random: () => Math.random()
});
const RUNTIME_MEMBERS = ["now", "setTimer", "clearTimer", "random"];
function missingRuntimeMembers(value) {
  const missing = RUNTIME_MEMBERS.filter((m) => typeof value[m] !== "function");
  for (const optional of ["fault", "defer", "observe"]) {
    const member = value[optional];
    if (member !== void 0 && typeof member !== "function") missing.push(`${optional} (must be a function when given)`);
  }
  return missing;
}

export { CycleError as C, DependencyFailedError as D, FlotillaError as F, NodeLostError as N, TimeoutError as T, CancelledError as a, describe as d, isFlotillaError as i, missingRuntimeMembers as m, realRuntime as r };
