import { EventEmitter } from 'eventemitter3';
import { execute } from 'abort-controller-x';

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

const DEFAULT_POLICY = Object.freeze({
  retries: 0,
  initialMs: 100,
  factor: 2,
  maxMs: Infinity,
  jitter: 0,
  timeoutMs: 0,
  satisfy: false,
  priority: 0
});
const TASK_OPTION_NAMES = ["dependsOn", "retries", "backoff", "timeoutMs", "onFailure", "priority"];
const BACKOFF_OPTION_NAMES = ["initialMs", "factor", "maxMs", "jitter"];
const NO_DEPS = Object.freeze([]);
function invalidOption(where, option, expected, received) {
  return new FlotillaError("E_INVALID_OPTION", `${where}: option "${option}" must be ${expected}, received ${describe(received)}`);
}
function checkKnownKeys(where, value, known, kind = "option") {
  for (const key in value) {
    if (!known.includes(key)) {
      const hint = closest(key, known);
      throw new FlotillaError(
        "E_INVALID_OPTION",
        `${where}: unknown ${kind} "${key}"${hint ? ` (did you mean "${hint}"?)` : ""}; known ${kind}s: ${known.join(", ")}`
      );
    }
  }
}
function closest(word, candidates) {
  let best;
  let bestDistance = word.length >= 5 ? 4 : 3;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}
function editDistance(a, b) {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}
function isFiniteNumber(v) {
  return typeof v === "number" && Number.isFinite(v);
}
function checkTaskId(where, id) {
  if (typeof id !== "string" || id.length === 0) {
    throw new FlotillaError("E_INVALID_OPTION", `${where}: a task id must be a non-empty string, received ${describe(id)}`);
  }
}
function checkDependsOn(where, value) {
  if (value === void 0) return NO_DEPS;
  if (!Array.isArray(value)) throw invalidOption(where, "dependsOn", "an array of task ids", value);
  const n = value.length;
  if (n === 0) return NO_DEPS;
  for (let i = 0; i < n; i++) {
    const dep = value[i];
    if (typeof dep !== "string" || dep.length === 0) {
      throw invalidOption(where, `dependsOn[${i}]`, "a non-empty task id string", dep);
    }
    for (let j = 0; j < i; j++) {
      if (value[j] === dep) throw new FlotillaError("E_INVALID_OPTION", `${where}: option "dependsOn" lists "${dep}" twice`);
    }
  }
  return value.slice();
}
function checkPolicy(where, options) {
  const { retries, backoff, timeoutMs, onFailure, priority } = options;
  if (retries === void 0 && backoff === void 0 && timeoutMs === void 0 && onFailure === void 0 && priority === void 0) {
    return void 0;
  }
  if (retries !== void 0 && !(Number.isInteger(retries) && retries >= 0)) {
    throw invalidOption(where, "retries", "a non-negative integer", retries);
  }
  if (timeoutMs !== void 0 && !(isFiniteNumber(timeoutMs) && timeoutMs > 0)) {
    throw invalidOption(where, "timeoutMs", "a finite number of milliseconds > 0", timeoutMs);
  }
  if (onFailure !== void 0 && onFailure !== "block" && onFailure !== "satisfy") {
    throw invalidOption(where, "onFailure", `"block" or "satisfy"`, onFailure);
  }
  if (priority !== void 0 && !isFiniteNumber(priority)) {
    throw invalidOption(where, "priority", "a finite number", priority);
  }
  const b = checkBackoff(where, backoff);
  return Object.freeze({
    retries: retries ?? 0,
    ...b,
    timeoutMs: timeoutMs ?? 0,
    satisfy: onFailure === "satisfy",
    priority: priority ?? 0
  });
}
function checkBackoff(where, backoff) {
  const d = DEFAULT_POLICY;
  if (backoff === void 0) return { initialMs: d.initialMs, factor: d.factor, maxMs: d.maxMs, jitter: d.jitter };
  if (typeof backoff !== "object" || backoff === null || Array.isArray(backoff)) {
    throw invalidOption(where, "backoff", "an object { initialMs, factor, maxMs, jitter }", backoff);
  }
  checkKnownKeys(where, backoff, BACKOFF_OPTION_NAMES, "backoff option");
  const { initialMs = d.initialMs, factor = d.factor, maxMs = d.maxMs, jitter = d.jitter } = backoff;
  if (!(isFiniteNumber(initialMs) && initialMs >= 0)) throw invalidOption(where, "backoff.initialMs", "a finite number >= 0", initialMs);
  if (!(isFiniteNumber(factor) && factor >= 1)) throw invalidOption(where, "backoff.factor", "a finite number >= 1", factor);
  if (!(typeof maxMs === "number" && maxMs >= initialMs)) throw invalidOption(where, "backoff.maxMs", `a number >= backoff.initialMs (${initialMs})`, maxMs);
  if (!(isFiniteNumber(jitter) && jitter >= 0 && jitter <= 1)) throw invalidOption(where, "backoff.jitter", "a number from 0 to 1", jitter);
  return { initialMs, factor, maxMs, jitter };
}
function checkTaskOptions(where, options) {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new FlotillaError("E_INVALID_OPTION", `${where}: options must be an object, received ${describe(options)}`);
  }
  checkKnownKeys(where, options, TASK_OPTION_NAMES);
  return { deps: checkDependsOn(where, options.dependsOn), policy: checkPolicy(where, options) };
}
function backoffDelay(policy, nextAttempt, random) {
  const raw = Math.min(policy.maxMs, policy.initialMs * policy.factor ** (nextAttempt - 2));
  return policy.jitter === 0 ? raw : raw * (1 - policy.jitter * random());
}

const graphs = /* @__PURE__ */ new WeakMap();
function graphOf(job) {
  return graphs.get(job);
}
const EMPTY = Object.freeze([]);
function addToGraph(graph, id, optionsOrBody, maybeBody) {
  const where = `job "${graph.name}"`;
  checkTaskId(where, id);
  const taskWhere = `task "${id}"`;
  if (graph.index.has(id)) {
    throw new FlotillaError("E_DUPLICATE_TASK", `${where} already has a task "${id}"; task ids must be unique`);
  }
  let body = maybeBody;
  let deps = EMPTY;
  let policy;
  if (typeof optionsOrBody === "function") {
    if (maybeBody !== void 0) {
      throw new FlotillaError("E_INVALID_OPTION", `${taskWhere}: give (id, body) or (id, options, body), received a function then ${describe(maybeBody)}`);
    }
    body = optionsOrBody;
  } else if (optionsOrBody !== void 0) {
    ({ deps, policy } = checkTaskOptions(taskWhere, optionsOrBody));
  }
  if (typeof body !== "function") {
    throw new FlotillaError("E_INVALID_OPTION", `${taskWhere}: the body must be a function (ctx) => value, received ${describe(body)}`);
  }
  const i = graph.ids.length;
  graph.ids.push(id);
  graph.bodies.push(body);
  graph.deps.push(deps);
  graph.policies.push(policy);
  graph.index.set(id, i);
  return i;
}
class Job {
  /** The job's name, used in messages and events. */
  name;
  constructor(name) {
    if (typeof name !== "string" || name.length === 0) {
      throw new FlotillaError("E_INVALID_OPTION", `new Job(name): the name must be a non-empty string, received ${describe(name)}`);
    }
    this.name = name;
    graphs.set(this, { name, ids: [], bodies: [], deps: [], policies: [], index: /* @__PURE__ */ new Map() });
  }
  task(id, optionsOrBody, body) {
    addToGraph(graphs.get(this), id, optionsOrBody, body);
    return this;
  }
  /** How many tasks the job has. */
  get size() {
    return graphs.get(this).ids.length;
  }
  /** Whether the job has a task with this id. */
  has(id) {
    return graphs.get(this).index.has(id);
  }
}

const RUN_EVENT_NAMES = [
  "job:start",
  "job:end",
  "task:ready",
  "task:start",
  "task:retry",
  "task:succeeded",
  "task:failed",
  "task:cancelled",
  "task:skipped",
  "task:requeued",
  "task:abandoned"
];

class Attempt {
  taskId;
  attempt;
  /** @internal The task's index in the run. */
  task;
  /** @internal The node it runs on. */
  node;
  /** @internal Timeout timer, while armed. */
  timeoutTimer = void 0;
  /** @internal Grace timer after an abort, while armed. */
  graceTimer = void 0;
  /** @internal The task's outcome for this attempt is recorded (settled, timed out or cancelled). */
  decided = false;
  /** @internal The slot is free again (the body settled, or was abandoned). */
  released = false;
  #host;
  #controller = void 0;
  #abortReason = void 0;
  #aborted = false;
  #deps = void 0;
  #failures = void 0;
  constructor(host, task, taskId, attempt, node) {
    this.#host = host;
    this.task = task;
    this.taskId = taskId;
    this.attempt = attempt;
    this.node = node;
  }
  get signal() {
    if (this.#controller === void 0) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }
  get deps() {
    return this.#deps ??= this.#host.depsOf(this.task);
  }
  get failures() {
    return this.#failures ??= this.#host.failuresOf(this.task);
  }
  // A getter, so `({ sleep }) => sleep(10)` works; the closure is only made for bodies that ask.
  get sleep() {
    return (ms) => this.#sleep(ms);
  }
  #sleep(ms) {
    if (!(typeof ms === "number" && ms >= 0 && ms <= Number.MAX_SAFE_INTEGER)) {
      return Promise.reject(
        new FlotillaError("E_INVALID_OPTION", `task "${this.taskId}": sleep(ms) needs a number of milliseconds >= 0, received ${describe(ms)}`)
      );
    }
    const runtime = this.#host.runtime;
    return execute(this.signal, (resolve) => {
      const timer = runtime.setTimer(ms, () => resolve());
      return () => runtime.clearTimer(timer);
    });
  }
  /** @internal Aborts the signal with `reason` (now, or when the body first reads `signal`). */
  abort(reason) {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }
}

const NONE = Object.freeze([]);
function planJob(graph) {
  const { ids, index, policies, name } = graph;
  const n = ids.length;
  const deps = new Array(n);
  const dependents = new Array(n).fill(void 0);
  const indegree = new Array(n);
  for (let i = 0; i < n; i++) {
    const names = graph.deps[i];
    const m = names.length;
    if (m === 0) {
      deps[i] = NONE;
      indegree[i] = 0;
      continue;
    }
    const list = new Array(m);
    for (let k = 0; k < m; k++) {
      const d = resolveDependency(graph, ids[i], names[k]);
      list[k] = d;
      const out = dependents[d];
      if (out === void 0) dependents[d] = [i];
      else out.push(i);
    }
    deps[i] = list;
    indegree[i] = m;
  }
  const order = [];
  for (let i = 0; i < n; i++) if (indegree[i] === 0) order.push(i);
  for (let head = 0; head < order.length; head++) {
    const out = dependents[order[head]];
    if (out === void 0) continue;
    for (let k = 0; k < out.length; k++) {
      const d = out[k];
      if (--indegree[d] === 0) order.push(d);
    }
  }
  if (order.length < n) throw new CycleError(name, findCycle(ids, deps, indegree));
  const priority = new Array(n);
  const rank = new Array(n);
  for (let k = n - 1; k >= 0; k--) {
    const i = order[k];
    let p = policies[i]?.priority ?? 0;
    let r = 0;
    const out = dependents[i];
    if (out !== void 0) {
      for (let j = 0; j < out.length; j++) {
        const d = out[j];
        if (priority[d] > p) p = priority[d];
        if (rank[d] + 1 > r) r = rank[d] + 1;
      }
    }
    priority[i] = p;
    rank[i] = r;
  }
  return { deps, dependents, priority, rank };
}
function resolveDependency(graph, taskId, dep) {
  if (dep === taskId) throw new CycleError(graph.name, [taskId, taskId]);
  const d = graph.index.get(dep);
  if (d !== void 0) return d;
  throw new FlotillaError(
    "E_UNKNOWN_DEPENDENCY",
    `task "${taskId}" depends on unknown task "${dep}" in job "${graph.name}"${suggest(graph, dep)}`
  );
}
function suggest(graph, dep) {
  if (graph.index.size > 1e4) return "";
  const hint = closest(dep, [...graph.index.keys()]);
  return hint === void 0 ? "" : ` (did you mean "${hint}"?)`;
}
function findCycle(ids, deps, indegree) {
  let start = indegree.findIndex((d) => d > 0);
  const seenAt = /* @__PURE__ */ new Map();
  const path = [];
  let i = start;
  while (!seenAt.has(i)) {
    seenAt.set(i, path.length);
    path.push(i);
    i = deps[i].find((d) => indegree[d] > 0);
  }
  const cycle = path.slice(seenAt.get(i)).map((k) => ids[k]);
  cycle.push(ids[i]);
  return cycle;
}

class ReadyQueue {
  #heap = [];
  #priority;
  #rank;
  constructor(priority, rank) {
    this.#priority = priority;
    this.#rank = rank;
  }
  get size() {
    return this.#heap.length;
  }
  /** True when task a should start before task b. */
  #before(a, b) {
    const pa = this.#priority[a];
    const pb = this.#priority[b];
    if (pa !== pb) return pa > pb;
    const ra = this.#rank[a];
    const rb = this.#rank[b];
    return ra !== rb ? ra > rb : a < b;
  }
  push(task) {
    const heap = this.#heap;
    let i = heap.length;
    heap.push(task);
    while (i > 0) {
      const parent = i - 1 >> 1;
      const p = heap[parent];
      if (!this.#before(task, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = task;
  }
  /** Removes and returns the first task, or -1 when empty. */
  pop() {
    const heap = this.#heap;
    const n = heap.length;
    if (n === 0) return -1;
    const top = heap[0];
    const last = heap.pop();
    if (n > 1) this.#siftDown(0, last);
    return top;
  }
  #siftDown(start, task) {
    const heap = this.#heap;
    const n = heap.length;
    let i = start;
    for (; ; ) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.#before(heap[right], heap[child])) child = right;
      const c = heap[child];
      if (!this.#before(c, task)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = task;
  }
  /** Restores heap order after keys of queued tasks changed (rare: a task added to a running job). */
  reorder() {
    const heap = this.#heap;
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) this.#siftDown(i, heap[i]);
  }
}

const PENDING = 0;
const READY = 1;
const RUNNING = 2;
const RETRYING = 3;
const SUCCEEDED = 4;
const FAILED = 5;
const CANCELLED = 6;
const SKIPPED = 7;
const STATE_NAMES = ["pending", "ready", "running", "retrying", "succeeded", "failed", "cancelled", "skipped"];

const STATUS = STATE_NAMES;
class TaskResultsView {
  #s;
  constructor(state) {
    this.#s = state;
  }
  get size() {
    return this.#s.ids.length;
  }
  has(id) {
    return this.#s.index.has(id);
  }
  get(id) {
    const i = this.#s.index.get(id);
    return i === void 0 ? void 0 : this.#at(i);
  }
  #at(i) {
    const s = this.#s;
    return {
      status: STATUS[s.state[i]],
      attempts: s.attempts[i],
      output: s.outputs[i],
      error: s.errors[i],
      startedAt: s.startedAt[i],
      finishedAt: s.finishedAt[i]
    };
  }
  *entries() {
    const ids = this.#s.ids;
    for (let i = 0; i < ids.length; i++) yield [ids[i], this.#at(i)];
  }
  *keys() {
    yield* this.#s.ids;
  }
  *values() {
    for (let i = 0; i < this.#s.ids.length; i++) yield this.#at(i);
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  forEach(callback, thisArg) {
    for (const [id, result] of this.entries()) callback.call(thisArg, result, id, this);
  }
  get [Symbol.toStringTag]() {
    return "TaskResults";
  }
}
function buildResult(s) {
  const counts = { succeeded: 0, failed: 0, cancelled: 0, skipped: 0 };
  for (const st of s.state) counts[STATUS[st]]++;
  return {
    job: s.job,
    status: s.status,
    tasks: new TaskResultsView(s),
    error: s.error,
    counts,
    startedAt: s.runStartedAt,
    finishedAt: s.runFinishedAt,
    durationMs: s.runFinishedAt - s.runStartedAt,
    output: (id) => {
      const i = s.index.get(id);
      return i !== void 0 && s.state[i] === SUCCEEDED ? s.outputs[i] : void 0;
    }
  };
}

class Executor {
  emitter = new EventEmitter();
  runtime;
  result;
  #options;
  #provider;
  #faults;
  #graph;
  #deps;
  #dependents;
  #priority;
  #rank;
  #queue;
  #state;
  #remaining;
  #attempts;
  #failedAttempts;
  #nodeLosses;
  #outputs;
  #errors;
  #startedAt;
  #finishedAt;
  #current;
  #retryTimers = /* @__PURE__ */ new Map();
  #phase = "created";
  #open;
  #busy = 0;
  #pumping = false;
  #node = void 0;
  #nodeStarting = void 0;
  #capacity = 0;
  #cancel = void 0;
  #firstError = void 0;
  #startTime = 0;
  #resolve;
  #onCallerAbort = void 0;
  /** Checks the job (unknown dependencies, cycles) and prepares the run; throws the job's errors. */
  constructor(graph, options) {
    this.#options = options;
    this.runtime = options.runtime;
    this.#provider = options.provider;
    this.#faults = typeof options.runtime.fault === "function";
    this.#graph = {
      name: graph.name,
      ids: graph.ids.slice(),
      bodies: graph.bodies.slice(),
      deps: graph.deps.slice(),
      policies: graph.policies.slice(),
      index: new Map(graph.index)
    };
    const plan = planJob(this.#graph);
    this.#deps = plan.deps;
    this.#dependents = plan.dependents;
    this.#priority = plan.priority;
    this.#rank = plan.rank;
    this.#queue = new ReadyQueue(this.#priority, this.#rank);
    const n = graph.ids.length;
    this.#state = new Array(n).fill(PENDING);
    this.#remaining = this.#deps.map((d) => d.length);
    this.#attempts = new Array(n).fill(0);
    this.#failedAttempts = new Array(n).fill(0);
    this.#nodeLosses = new Array(n).fill(0);
    this.#outputs = new Array(n).fill(void 0);
    this.#errors = new Array(n).fill(void 0);
    this.#startedAt = new Array(n).fill(void 0);
    this.#finishedAt = new Array(n).fill(void 0);
    this.#current = new Array(n).fill(void 0);
    this.#open = n;
    this.result = new Promise((resolve) => this.#resolve = resolve);
  }
  get jobName() {
    return this.#graph.name;
  }
  /** "running" until the run settles, then its final status. */
  get status() {
    return this.#phase === "ended" ? this.#jobStatus() : "running";
  }
  /** Starts the run. Called once, a microtask after `start()`, so listeners added right after it see everything. */
  begin() {
    if (this.#phase !== "created") return;
    this.#phase = "running";
    this.#startTime = this.runtime.now();
    const signal = this.#options.signal;
    if (signal !== void 0) {
      if (signal.aborted) {
        this.#emitJobStart();
        this.#cancelRun("signal", signal.reason);
        return;
      }
      this.#onCallerAbort = () => this.#cancelRun("signal", signal.reason);
      signal.addEventListener("abort", this.#onCallerAbort, { once: true });
    }
    this.#emitJobStart();
    const n = this.#graph.ids.length;
    for (let i = 0; i < n; i++) if (this.#remaining[i] === 0) this.#makeReady(i);
    if (n > 0) this.#startNode();
    this.#pump();
  }
  // ---- public operations (through RunHandle) ----
  cancel(reason) {
    this.#cancelRun("cancel", reason);
  }
  cancelTask(id, reason) {
    const i = this.#indexOf(id, "cancelTask");
    if (this.#phase !== "running" || this.#state[i] >= SUCCEEDED) return false;
    const why = reason === void 0 ? "" : `: ${reason instanceof Error ? reason.message : String(reason)}`;
    this.#cancelOne(i, new CancelledError(`task "${id}" was cancelled${why}`, "cancelTask", reason));
    this.#skipDependents(i);
    this.#pump();
    return true;
  }
  addTask(id, optionsOrBody, body) {
    if (this.#phase === "ending" || this.#phase === "ended" || this.#cancel !== void 0) {
      throw new FlotillaError(
        "E_RUN_ENDED",
        `cannot add task ${typeof id === "string" ? `"${id}"` : describe(id)}: the run of job "${this.#graph.name}" has ${this.#cancel ? "been cancelled" : "ended"}`
      );
    }
    const graph = this.#graph;
    const i = addToGraph(graph, id, optionsOrBody, body);
    let deps;
    try {
      deps = graph.deps[i].map((dep) => resolveDependency(graph, graph.ids[i], dep));
    } catch (error) {
      graph.index.delete(graph.ids.pop());
      graph.bodies.pop();
      graph.deps.pop();
      graph.policies.pop();
      throw error;
    }
    this.#deps.push(deps);
    this.#dependents.push(void 0);
    this.#priority.push(graph.policies[i]?.priority ?? 0);
    this.#rank.push(0);
    this.#state.push(PENDING);
    this.#attempts.push(0);
    this.#failedAttempts.push(0);
    this.#nodeLosses.push(0);
    this.#outputs.push(void 0);
    this.#errors.push(void 0);
    this.#startedAt.push(void 0);
    this.#finishedAt.push(void 0);
    this.#current.push(void 0);
    this.#open++;
    let remaining = 0;
    let blocker = -1;
    for (const d of deps) {
      (this.#dependents[d] ??= []).push(i);
      const s = this.#state[d];
      if (s === SUCCEEDED || s === FAILED && this.#satisfies(d)) continue;
      if (s >= SUCCEEDED) blocker = d;
      else remaining++;
    }
    this.#remaining.push(remaining);
    this.#raiseAncestors(i);
    if (this.#phase === "created") return;
    if (blocker >= 0) this.#skip(i, blocker);
    else if (remaining === 0) this.#makeReady(i);
    this.#pump();
  }
  // ---- AttemptHost ----
  depsOf(task) {
    const deps = {};
    for (const d of this.#deps[task]) if (this.#state[d] === SUCCEEDED) put(deps, this.#graph.ids[d], this.#outputs[d]);
    return deps;
  }
  failuresOf(task) {
    const failures = {};
    for (const d of this.#deps[task]) if (this.#state[d] === FAILED) put(failures, this.#graph.ids[d], this.#errors[d]);
    return failures;
  }
  // ---- the loop ----
  /** Starts ready tasks while there is capacity. Re-entrant calls (from synchronous completions) return at once. */
  #pump() {
    if (this.#pumping || this.#phase !== "running") return;
    this.#pumping = true;
    try {
      const queue = this.#queue;
      const state = this.#state;
      while (this.#busy < this.#capacity && this.#cancel === void 0) {
        const i = queue.pop();
        if (i < 0) break;
        if (state[i] !== READY) continue;
        if (this.#faults && this.#injectCancel(i)) break;
        this.#startAttempt(i);
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#open === 0 && this.#busy === 0) void this.#finish();
  }
  #startAttempt(i) {
    const number = ++this.#attempts[i];
    const a = new Attempt(this, i, this.#graph.ids[i], number, this.#node);
    this.#state[i] = RUNNING;
    this.#current[i] = a;
    this.#busy++;
    if (this.#startedAt[i] === void 0) this.#startedAt[i] = this.runtime.now();
    if (this.emitter.listenerCount("task:start") > 0) {
      this.#emit("task:start", { type: "task:start", taskId: a.taskId, attempt: number, at: this.runtime.now() });
    }
    if (a.decided) {
      this.#release(a);
      return;
    }
    const policy = this.#graph.policies[i];
    if (policy !== void 0 && policy.timeoutMs > 0) {
      a.timeoutTimer = this.runtime.setTimer(policy.timeoutMs, () => this.#timedOut(a, policy.timeoutMs));
    }
    let result;
    try {
      if (this.#faults) {
        const fault = this.#fault("task.attempt", a);
        if (fault?.kind === "timeout") {
          this.#timedOut(a, policy?.timeoutMs ?? 0);
          this.#release(a);
          return;
        }
        if (fault?.kind === "fail") throw injected(fault, "task.attempt", a);
      }
      result = this.#provider.run(a.node, this.#graph.bodies[i], a);
    } catch (error) {
      this.#settle(a, false, error);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (value) => this.#settle(a, true, value),
        (error) => this.#settle(a, false, error)
      );
    } else {
      this.#settle(a, true, result);
    }
  }
  /** The body of attempt `a` returned or threw. */
  #settle(a, ok, value) {
    if (a.released) return;
    this.#release(a);
    if (!a.decided) {
      a.decided = true;
      this.#current[a.task] = void 0;
      if (this.#faults) {
        const fault = this.#fault("task.complete", a);
        if (fault?.kind === "fail" || fault?.kind === "timeout") {
          ok = false;
          value = fault.kind === "fail" ? injected(fault, "task.complete", a) : new TimeoutError(a.taskId, a.attempt, 0);
        }
      }
      if (ok) this.#succeed(a, value);
      else this.#attemptFailed(a, value);
    }
    this.#pump();
  }
  #release(a) {
    a.released = true;
    this.#busy--;
    if (a.timeoutTimer !== void 0) this.runtime.clearTimer(a.timeoutTimer);
    if (a.graceTimer !== void 0) this.runtime.clearTimer(a.graceTimer);
    a.timeoutTimer = a.graceTimer = void 0;
  }
  #timedOut(a, timeoutMs) {
    a.timeoutTimer = void 0;
    if (a.decided) return;
    a.decided = true;
    this.#current[a.task] = void 0;
    const error = new TimeoutError(a.taskId, a.attempt, timeoutMs);
    this.#abort(a, error);
    this.#attemptFailed(a, error);
    this.#pump();
  }
  /** Aborts a running attempt; its slot stays taken until the body settles or the grace period ends. */
  #abort(a, reason) {
    a.abort(reason);
    if (a.released || a.graceTimer !== void 0) return;
    a.graceTimer = this.runtime.setTimer(this.#options.cancelGraceMs, () => {
      a.graceTimer = void 0;
      if (a.released) return;
      this.#release(a);
      if (this.emitter.listenerCount("task:abandoned") > 0) {
        this.#emit("task:abandoned", { type: "task:abandoned", taskId: a.taskId, attempt: a.attempt, at: this.runtime.now() });
      }
      this.#pump();
    });
  }
  #succeed(a, output) {
    const i = a.task;
    this.#state[i] = SUCCEEDED;
    this.#outputs[i] = output;
    this.#finishedAt[i] = this.runtime.now();
    this.#open--;
    if (this.emitter.listenerCount("task:succeeded") > 0) {
      this.#emit("task:succeeded", { type: "task:succeeded", taskId: a.taskId, attempt: a.attempt, output, at: this.#finishedAt[i] });
    }
    this.#releaseDependents(i);
  }
  #attemptFailed(a, error) {
    const i = a.task;
    if (error instanceof NodeLostError && this.#cancel === void 0 && this.#nodeLosses[i] < this.#options.maxNodeLosses) {
      this.#nodeLosses[i]++;
      if (this.#node === a.node) this.#replaceNode();
      if (this.emitter.listenerCount("task:requeued") > 0) {
        this.#emit("task:requeued", { type: "task:requeued", taskId: a.taskId, attempt: a.attempt, error, at: this.runtime.now() });
      }
      this.#makeReady(i);
      return;
    }
    const failed = ++this.#failedAttempts[i];
    const policy = this.#graph.policies[i] ?? DEFAULT_POLICY;
    if (failed <= policy.retries && this.#cancel === void 0 && !(error instanceof NodeLostError)) {
      this.#retry(i, a, error, policy, failed + 1);
      return;
    }
    this.#fail(i, error);
  }
  #retry(i, a, error, policy, nextTry) {
    const delayMs = backoffDelay(policy, nextTry, this.runtime.random);
    this.#state[i] = RETRYING;
    if (delayMs > 0) {
      const timer = this.runtime.setTimer(delayMs, () => {
        this.#retryTimers.delete(i);
        if (this.#state[i] !== RETRYING) return;
        this.#makeReady(i);
        this.#pump();
      });
      this.#retryTimers.set(i, timer);
    }
    if (this.emitter.listenerCount("task:retry") > 0) {
      this.#emit("task:retry", { type: "task:retry", taskId: a.taskId, attempt: a.attempt, error, delayMs, at: this.runtime.now() });
    }
    if (delayMs <= 0 && this.#state[i] === RETRYING) this.#makeReady(i);
  }
  #fail(i, error) {
    this.#state[i] = FAILED;
    this.#errors[i] = error;
    this.#finishedAt[i] = this.runtime.now();
    this.#open--;
    if (this.#firstError === void 0) this.#firstError = error;
    if (this.emitter.listenerCount("task:failed") > 0) {
      this.#emit("task:failed", { type: "task:failed", taskId: this.#graph.ids[i], attempts: this.#attempts[i], error, at: this.#finishedAt[i] });
    }
    if (this.#satisfies(i)) this.#releaseDependents(i);
    else this.#skipDependents(i);
    if (this.#options.failFast) this.#cancelRun("failFast", error);
  }
  #satisfies(i) {
    return this.#graph.policies[i]?.satisfy === true;
  }
  #makeReady(i) {
    this.#state[i] = READY;
    this.#queue.push(i);
    if (this.emitter.listenerCount("task:ready") > 0) {
      this.#emit("task:ready", { type: "task:ready", taskId: this.#graph.ids[i], at: this.runtime.now() });
    }
  }
  #releaseDependents(i) {
    const out = this.#dependents[i];
    if (out === void 0) return;
    const remaining = this.#remaining;
    const state = this.#state;
    for (let k = 0; k < out.length; k++) {
      const d = out[k];
      if (--remaining[d] === 0 && state[d] === PENDING) this.#makeReady(d);
    }
  }
  /** Skips every pending transitive dependent of `i` (which failed, was cancelled or was skipped). */
  #skipDependents(i) {
    const stack = [i];
    while (stack.length > 0) {
      const j = stack.pop();
      const out = this.#dependents[j];
      if (out === void 0) continue;
      for (const d of out) {
        if (this.#state[d] !== PENDING) continue;
        this.#skip(d, j);
        stack.push(d);
      }
    }
  }
  #skip(d, because) {
    const ids = this.#graph.ids;
    const error = new DependencyFailedError(ids[d], ids[because], STATE_NAMES[this.#state[because]], this.#errors[because]);
    this.#state[d] = SKIPPED;
    this.#errors[d] = error;
    this.#finishedAt[d] = this.runtime.now();
    this.#open--;
    if (this.emitter.listenerCount("task:skipped") > 0) {
      this.#emit("task:skipped", { type: "task:skipped", taskId: ids[d], error, at: this.#finishedAt[d] });
    }
  }
  /** Moves a non-terminal task to "cancelled", aborting its running attempt or pending retry. */
  #cancelOne(i, error) {
    const s = this.#state[i];
    if (s === RETRYING) {
      const timer = this.#retryTimers.get(i);
      if (timer !== void 0) this.runtime.clearTimer(timer);
      this.#retryTimers.delete(i);
    } else if (s === RUNNING) {
      const a = this.#current[i];
      this.#current[i] = void 0;
      a.decided = true;
      this.#abort(a, error);
    }
    this.#state[i] = CANCELLED;
    this.#errors[i] = error;
    this.#finishedAt[i] = this.runtime.now();
    this.#open--;
    if (this.emitter.listenerCount("task:cancelled") > 0) {
      this.#emit("task:cancelled", { type: "task:cancelled", taskId: this.#graph.ids[i], error, at: this.#finishedAt[i] });
    }
  }
  #cancelRun(source, reason) {
    if (this.#cancel !== void 0 || this.#phase !== "running" && this.#phase !== "created") return;
    const why = reason === void 0 ? "" : `: ${reason instanceof Error ? reason.message : String(reason)}`;
    const by = { signal: "by its signal", cancel: "by cancel()", cancelTask: "", failFast: "by failFast after a task failed", fault: "by an injected fault" }[source];
    this.#cancel = new CancelledError(`the run of job "${this.#graph.name}" was cancelled ${by}${why}`, source, reason);
    const state = this.#state;
    for (let i = 0; i < state.length; i++) if (state[i] < SUCCEEDED) this.#cancelOne(i, this.#cancel);
    this.#pump();
  }
  #injectCancel(i) {
    const fault = this.#fault("job.cancel", void 0, i);
    if (fault?.kind !== "cancel") return false;
    this.#cancelRun("fault", fault.reason ?? "injected fault at job.cancel");
    return true;
  }
  #fault(point, a, task = a?.task ?? -1) {
    const action = this.runtime.fault(point, {
      point,
      jobName: this.#graph.name,
      taskId: task >= 0 ? this.#graph.ids[task] : void 0,
      attempt: a?.attempt ?? (task >= 0 ? this.#attempts[task] + 1 : void 0),
      nodeId: a?.node.id
    });
    return action ?? void 0;
  }
  // ---- nodes ----
  #startNode() {
    let started;
    try {
      started = this.#provider.startNode();
    } catch (error) {
      this.#nodeFailed(error);
      return;
    }
    if (!isThenable(started)) {
      this.#useNode(started);
      return;
    }
    this.#nodeStarting = Promise.resolve(started).then(
      (node) => {
        this.#nodeStarting = void 0;
        if (this.#phase === "running") this.#useNode(node);
        else void this.#stopNode(node);
      },
      (error) => {
        this.#nodeStarting = void 0;
        this.#nodeFailed(error);
      }
    );
  }
  #useNode(node) {
    this.#node = node;
    this.#capacity = Math.min(this.#options.concurrency, node.slots);
    this.#pump();
  }
  #replaceNode() {
    const lost = this.#node;
    this.#node = void 0;
    this.#capacity = 0;
    void this.#stopNode(lost);
    if (this.#open > 0) this.#startNode();
  }
  /** No node could be started: every task still waiting fails with that error. */
  #nodeFailed(error) {
    if (this.#phase !== "running") return;
    const cause = new NodeLostError("(none)", `provider "${this.#provider.name}" could not start a node: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    const state = this.#state;
    for (let i = 0; i < state.length; i++) if (state[i] < SUCCEEDED && state[i] !== RUNNING) this.#fail(i, cause);
    this.#pump();
  }
  async #stopNode(node) {
    try {
      await this.#provider.stopNode(node);
    } catch {
    }
  }
  // ---- the end ----
  async #finish() {
    if (this.#phase !== "running") return;
    this.#phase = "ending";
    if (this.#onCallerAbort !== void 0) this.#options.signal.removeEventListener("abort", this.#onCallerAbort);
    this.#onCallerAbort = void 0;
    if (this.#nodeStarting !== void 0) await this.#nodeStarting;
    if (this.#node !== void 0) await this.#stopNode(this.#node);
    this.#node = void 0;
    this.#phase = "ended";
    const finishedAt = this.runtime.now();
    const status = this.#jobStatus();
    const result = buildResult({
      job: this.#graph.name,
      status,
      error: status === "cancelled" && this.#cancel !== void 0 ? this.#cancel : this.#firstError ?? this.#firstCancel(),
      ids: this.#graph.ids,
      index: this.#graph.index,
      state: this.#state,
      attempts: this.#attempts,
      outputs: this.#outputs,
      errors: this.#errors,
      startedAt: this.#startedAt,
      finishedAt: this.#finishedAt,
      runStartedAt: this.#startTime,
      runFinishedAt: finishedAt
    });
    if (this.emitter.listenerCount("job:end") > 0) {
      this.#emit("job:end", { type: "job:end", job: this.#graph.name, status, result, at: finishedAt });
    }
    this.emitter.removeAllListeners();
    this.#resolve(result);
  }
  #jobStatus() {
    if (this.#cancel !== void 0 && this.#cancel.source !== "failFast") return "cancelled";
    if (this.#firstError !== void 0 || this.#state.includes(FAILED)) return "failed";
    return this.#state.includes(CANCELLED) ? "cancelled" : "succeeded";
  }
  #firstCancel() {
    const i = this.#state.indexOf(CANCELLED);
    return i < 0 ? void 0 : this.#errors[i];
  }
  // ---- helpers ----
  #emitJobStart() {
    if (this.emitter.listenerCount("job:start") > 0) {
      this.#emit("job:start", { type: "job:start", job: this.#graph.name, tasks: this.#graph.ids.length, at: this.#startTime });
    }
  }
  /** Emits to listeners; a listener that throws must not break the run, so its error is rethrown on its own. */
  #emit(name, event) {
    try {
      this.emitter.emit(name, event);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
  #indexOf(id, operation) {
    const i = typeof id === "string" ? this.#graph.index.get(id) : void 0;
    if (i === void 0) {
      throw new FlotillaError("E_UNKNOWN_TASK", `${operation}: the run of job "${this.#graph.name}" has no task ${typeof id === "string" ? `"${id}"` : describe(id)}`);
    }
    return i;
  }
  /** After a task is added to a running job: its dependencies may now lead to a longer path or a higher priority. */
  #raiseAncestors(task) {
    let reorder = false;
    const stack = [task];
    while (stack.length > 0) {
      const j = stack.pop();
      for (const d of this.#deps[j]) {
        const r = this.#rank[j] + 1;
        const p = this.#priority[j];
        if (this.#rank[d] >= r && this.#priority[d] >= p) continue;
        if (this.#rank[d] < r) this.#rank[d] = r;
        if (this.#priority[d] < p) this.#priority[d] = p;
        if (this.#state[d] === READY) reorder = true;
        stack.push(d);
      }
    }
    if (reorder) this.#queue.reorder();
  }
}
function isThenable(value) {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof value.then === "function";
}
function put(target, key, value) {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
function injected(fault, point, a) {
  return fault.error ?? new Error(`injected fault at ${point} (task "${a.taskId}", attempt ${a.attempt})`);
}

const PROVIDER_MEMBERS = ["startNode", "stopNode", "run"];
function checkProvider(where, value) {
  if (typeof value !== "object" || value === null) {
    throw new FlotillaError("E_INVALID_OPTION", `${where}: option "provider" must be a ComputeProvider object, received ${value === null ? "null" : typeof value}`);
  }
  const missing = PROVIDER_MEMBERS.filter((m) => typeof value[m] !== "function");
  if (typeof value.name !== "string") missing.push("name (a string)");
  if (missing.length > 0) {
    throw new FlotillaError("E_INVALID_OPTION", `${where}: option "provider" is not a ComputeProvider: missing ${missing.join(", ")}`);
  }
}
const IN_PROCESS_NODE = Object.freeze({ id: "in-process", slots: Infinity });
function inProcess() {
  return {
    name: "in-process",
    startNode: () => IN_PROCESS_NODE,
    stopNode: () => {
    },
    run: (_node, body, ctx) => body(ctx)
  };
}

const realRuntime = Object.freeze({
  now: () => Date.now(),
  setTimer: (ms, callback) => setTimeout(callback, ms),
  clearTimer: (handle) => clearTimeout(handle),
  random: () => Math.random()
});
const RUNTIME_MEMBERS = ["now", "setTimer", "clearTimer", "random"];
function missingRuntimeMembers(value) {
  const missing = RUNTIME_MEMBERS.filter((m) => typeof value[m] !== "function");
  const fault = value.fault;
  if (fault !== void 0 && typeof fault !== "function") missing.push("fault (must be a function when given)");
  return missing;
}

const RUN_OPTION_NAMES = ["concurrency", "signal", "failFast", "runtime", "provider", "cancelGraceMs", "maxNodeLosses"];
function resolveRunOptions(jobName, options) {
  const where = `run of job "${jobName}"`;
  if (options === void 0) options = {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new FlotillaError("E_INVALID_OPTION", `${where}: options must be an object, received ${describe(options)}`);
  }
  checkKnownKeys(where, options, RUN_OPTION_NAMES, "run option");
  const o = options;
  const concurrency = o.concurrency ?? Infinity;
  if (!(concurrency === Infinity || Number.isInteger(concurrency) && concurrency >= 1)) {
    throw invalidOption(where, "concurrency", "an integer >= 1 or Infinity", concurrency);
  }
  const signal = o.signal;
  if (signal !== void 0 && !isAbortSignal(signal)) throw invalidOption(where, "signal", "an AbortSignal", signal);
  const failFast = o.failFast ?? false;
  if (typeof failFast !== "boolean") throw invalidOption(where, "failFast", "a boolean", failFast);
  const runtime = o.runtime ?? realRuntime;
  if (typeof runtime !== "object" || runtime === null) throw invalidOption(where, "runtime", "a Runtime object", runtime);
  const missing = missingRuntimeMembers(runtime);
  if (missing.length > 0) {
    throw new FlotillaError("E_INVALID_OPTION", `${where}: option "runtime" is not a Runtime: missing ${missing.join(", ")}`);
  }
  const provider = o.provider ?? inProcess();
  checkProvider(where, provider);
  const cancelGraceMs = o.cancelGraceMs ?? 1e3;
  if (!(typeof cancelGraceMs === "number" && Number.isFinite(cancelGraceMs) && cancelGraceMs >= 0)) {
    throw invalidOption(where, "cancelGraceMs", "a finite number of milliseconds >= 0", cancelGraceMs);
  }
  const maxNodeLosses = o.maxNodeLosses ?? 3;
  if (!(Number.isInteger(maxNodeLosses) && maxNodeLosses >= 0)) {
    throw invalidOption(where, "maxNodeLosses", "an integer >= 0", maxNodeLosses);
  }
  return { concurrency, signal, failFast, runtime, provider, cancelGraceMs, maxNodeLosses };
}
function isAbortSignal(value) {
  return typeof value === "object" && value !== null && typeof value.aborted === "boolean" && typeof value.addEventListener === "function" && typeof value.removeEventListener === "function";
}

class RunHandle {
  /** Resolves when the run settles (also when it failed or was cancelled); rejects only when the job or options are invalid. */
  result;
  #exec;
  #refusal;
  /** @internal Use `start()`. */
  constructor(exec, refusal) {
    this.#exec = exec;
    this.#refusal = refusal;
    this.result = exec !== void 0 ? exec.result : Promise.reject(refusal);
  }
  /** "running" until the run settles, then its final status. "failed" for a run that was refused. */
  get status() {
    return this.#exec?.status ?? "failed";
  }
  /** Listens to an event. Listeners observe; they never change scheduling. */
  on(event, listener) {
    this.#exec?.emitter.on(event, listener);
    return this;
  }
  /** Listens to the next occurrence of an event only. */
  once(event, listener) {
    this.#exec?.emitter.once(event, listener);
    return this;
  }
  /** Removes a listener added with `on` or `once`. */
  off(event, listener) {
    this.#exec?.emitter.off(event, listener);
    return this;
  }
  /**
   * Cancels the whole run: running attempts are aborted through their signals, everything not yet
   * finished ends "cancelled", and the run settles with status "cancelled". Harmless when repeated or
   * after the end.
   */
  cancel(reason) {
    this.#exec?.cancel(reason);
  }
  cancelTask(id, reason) {
    return this.#exec?.cancelTask(id, reason) ?? false;
  }
  addTask(id, optionsOrBody, body) {
    if (this.#exec === void 0) throw new FlotillaError("E_RUN_ENDED", `cannot add task "${id}": the run was refused`, { cause: this.#refusal });
    this.#exec.addTask(id, optionsOrBody, body);
    return this;
  }
  /** Every event from now until `job:end`, in order. Breaking out of the loop stops listening. */
  [Symbol.asyncIterator]() {
    const exec = this.#exec;
    const buffer = [];
    let head = 0;
    let ended = exec === void 0 || exec.status !== "running";
    let wake;
    const listener = (event) => {
      buffer.push(event);
      if (event.type === "job:end") stop();
      wake?.();
      wake = void 0;
    };
    const stop = () => {
      ended = true;
      for (const name of RUN_EVENT_NAMES) exec?.emitter.off(name, listener);
    };
    if (!ended) for (const name of RUN_EVENT_NAMES) exec.emitter.on(name, listener);
    const refusal = this.#refusal;
    return {
      async next() {
        if (exec === void 0) throw refusal;
        while (head === buffer.length) {
          if (ended) return { done: true, value: void 0 };
          await new Promise((resolve) => wake = resolve);
        }
        const value = buffer[head];
        buffer[head++] = void 0;
        return { done: false, value };
      },
      async return() {
        stop();
        head = buffer.length;
        return { done: true, value: void 0 };
      },
      [Symbol.asyncIterator]() {
        return this;
      }
    };
  }
}
function start(job, options) {
  let exec;
  try {
    const graph = graphOf(job);
    if (graph === void 0) throw new FlotillaError("E_INVALID_OPTION", `run(job): job must be a Job, received ${describe(job)}`);
    exec = new Executor(graph, resolveRunOptions(graph.name, options));
  } catch (error) {
    return new RunHandle(void 0, error);
  }
  queueMicrotask(() => exec.begin());
  return new RunHandle(exec);
}
function run(job, options) {
  return start(job, options).result;
}

export { CancelledError, CycleError, DependencyFailedError, FlotillaError, Job, NodeLostError, RunHandle, TimeoutError, inProcess, isFlotillaError, realRuntime, run, start };
