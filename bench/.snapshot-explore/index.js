import { F as FlotillaError, d as describe, C as CycleError, T as TimeoutError, N as NodeLostError, D as DependencyFailedError, a as CancelledError, r as realRuntime, m as missingRuntimeMembers } from './chunks/runtime-a0N9_cBk.js';
export { i as isFlotillaError } from './chunks/runtime-a0N9_cBk.js';
import { EventEmitter } from 'eventemitter3';
import { execute } from 'abort-controller-x';

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
  for (let i = 0; i < n; i++) {
    const dep = value[i];
    if (typeof dep !== "string" || dep.length === 0) {
      throw invalidOption(where, `dependsOn[${i}]`, "a non-empty task id string", dep);
    }
  }
  if (n <= 16) {
    for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) if (value[j] === value[i]) throw listedTwice(where, value[i]);
  } else if (new Set(value).size !== n) {
    const seen = /* @__PURE__ */ new Set();
    for (const dep of value) {
      if (seen.has(dep)) throw listedTwice(where, dep);
      seen.add(dep);
    }
  }
  return value;
}
function listedTwice(where, dep) {
  return new FlotillaError("E_INVALID_OPTION", `${where}: option "dependsOn" lists "${dep}" twice`);
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

function emptyGraph(name) {
  return { name, ids: [], bodies: [], policies: [], index: /* @__PURE__ */ new Map(), deps: new Int32Array(16), depEnd: new Int32Array(16), edges: 0, forward: /* @__PURE__ */ new Map() };
}
let graphOf;
function addToGraph(graph, id, optionsOrBody, maybeBody) {
  if (typeof id !== "string" || id.length === 0) checkTaskId(`job "${graph.name}"`, id);
  if (graph.index.has(id)) {
    throw new FlotillaError("E_DUPLICATE_TASK", `job "${graph.name}" already has a task "${id}"; task ids must be unique`);
  }
  let body = maybeBody;
  let deps;
  let policy;
  if (typeof optionsOrBody === "function") {
    if (maybeBody !== void 0) {
      throw new FlotillaError("E_INVALID_OPTION", `task "${id}": give (id, body) or (id, options, body), received a function then ${describe(maybeBody)}`);
    }
    body = optionsOrBody;
  } else if (optionsOrBody !== void 0) {
    ({ deps, policy } = checkTaskOptions(`task "${id}"`, optionsOrBody));
  }
  if (typeof body !== "function") {
    throw new FlotillaError("E_INVALID_OPTION", `task "${id}": the body must be a function (ctx) => value, received ${describe(body)}`);
  }
  const i = graph.ids.length;
  graph.ids.push(id);
  graph.bodies.push(body);
  graph.policies.push(policy);
  if (deps !== void 0 && deps.length > 0) {
    const m = deps.length;
    if (graph.edges + m > graph.deps.length) graph.deps = grown$1(graph.deps, graph.edges + m);
    for (let k = 0; k < m; k++) {
      const d = graph.index.get(deps[k]);
      if (d === void 0) graph.forward.set(graph.edges, deps[k]);
      graph.deps[graph.edges++] = d ?? -1;
    }
  }
  if (i === graph.depEnd.length) graph.depEnd = grown$1(graph.depEnd, i + 1);
  graph.depEnd[i] = graph.edges;
  graph.index.set(id, i);
  return i;
}
function removeLastTask(graph) {
  graph.index.delete(graph.ids.pop());
  graph.bodies.pop();
  graph.policies.pop();
  const n = graph.ids.length;
  const edges = n === 0 ? 0 : graph.depEnd[n - 1];
  for (let e = edges; e < graph.edges; e++) graph.forward.delete(e);
  graph.edges = edges;
}
function copyGraph(graph, count) {
  const edges = count === 0 ? 0 : graph.depEnd[count - 1];
  const ids = graph.ids.slice(0, count);
  const index = /* @__PURE__ */ new Map();
  for (let i = 0; i < count; i++) index.set(ids[i], i);
  const forward = /* @__PURE__ */ new Map();
  for (const [e, name] of graph.forward) if (e < edges) forward.set(e, name);
  return {
    name: graph.name,
    ids,
    bodies: graph.bodies.slice(0, count),
    policies: graph.policies.slice(0, count),
    index,
    deps: graph.deps.slice(0, Math.max(16, edges)),
    depEnd: graph.depEnd.slice(0, Math.max(16, count)),
    edges,
    forward
  };
}
function grown$1(from, min) {
  const to = new Int32Array(Math.max(min, from.length * 2));
  to.set(from);
  return to;
}
class Job {
  /** The job's name, used in messages and events. */
  name;
  #graph;
  static {
    graphOf = (job) => job instanceof Job ? job.#graph : void 0;
  }
  constructor(name) {
    if (typeof name !== "string" || name.length === 0) {
      throw new FlotillaError("E_INVALID_OPTION", `new Job(name): the name must be a non-empty string, received ${describe(name)}`);
    }
    this.name = name;
    this.#graph = emptyGraph(name);
  }
  task(id, optionsOrBody, body) {
    addToGraph(this.#graph, id, optionsOrBody, body);
    return this;
  }
  /** How many tasks the job has. */
  get size() {
    return this.#graph.ids.length;
  }
  /** Whether the job has a task with this id. */
  has(id) {
    return this.#graph.index.has(id);
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

const NOT_ABORTED = /* @__PURE__ */ Symbol("not aborted");
class Attempt {
  taskId;
  attempt;
  /** @internal The task's index in the run. */
  task;
  /** @internal The node it runs on. */
  node;
  /** @internal The armed timer: the timeout while it runs, the grace period once aborted. */
  timer = void 0;
  /** @internal The task's outcome for this attempt is recorded (settled, timed out or cancelled). */
  decided = false;
  /** @internal The slot is free again (the body settled, or was abandoned). */
  released = false;
  #host;
  #controller = void 0;
  #abortReason = NOT_ABORTED;
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
      if (this.#abortReason !== NOT_ABORTED) this.#controller.abort(this.#abortReason);
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
    return execute(this.#controller?.signal ?? this.#hook(), (resolve) => {
      const timer = runtime.setTimer(ms, () => resolve(), this.#host.controlled ? `sleep ${this.taskId}#${this.attempt}` : void 0);
      return () => runtime.clearTimer(timer);
    });
  }
  /** @internal Aborts the signal with `reason` (now, or when the body first reads `signal`). */
  abort(reason) {
    if (this.#abortReason !== NOT_ABORTED) return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
    const listeners = this.#listeners;
    this.#listeners = void 0;
    if (listeners !== void 0) for (const listener of listeners) listener();
  }
  #listeners = void 0;
  /** The part of AbortSignal that abort-controller-x's `execute` uses, without an AbortController. */
  #hook() {
    const attempt = this;
    return {
      get aborted() {
        return attempt.#abortReason !== NOT_ABORTED;
      },
      get reason() {
        return attempt.#abortReason === NOT_ABORTED ? void 0 : attempt.#abortReason;
      },
      addEventListener(_type, listener) {
        (attempt.#listeners ??= /* @__PURE__ */ new Set()).add(listener);
      },
      removeEventListener(_type, listener) {
        attempt.#listeners?.delete(listener);
      }
    };
  }
}

class ReadyQueue {
  #heap = [];
  #priority;
  #rank;
  constructor(priority, rank) {
    this.#priority = priority;
    this.#rank = rank;
  }
  /** Points the queue at the key arrays again after the task table grew. */
  rekey(priority, rank) {
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
  #t;
  constructor(table) {
    this.#t = table;
  }
  get size() {
    return this.#t.count;
  }
  has(id) {
    return this.#t.indexOf(id) !== void 0;
  }
  get(id) {
    const i = this.#t.indexOf(id);
    return i === void 0 ? void 0 : this.#at(i);
  }
  #at(i) {
    const t = this.#t;
    const startedAt = t.startedAt[i];
    const finishedAt = t.finishedAt[i];
    return {
      status: STATUS[t.state[i]],
      attempts: t.attempts[i],
      output: t.outputs[i],
      error: t.errors[i],
      startedAt: Number.isNaN(startedAt) ? void 0 : startedAt,
      finishedAt: Number.isNaN(finishedAt) ? void 0 : finishedAt
    };
  }
  *entries() {
    const ids = this.#t.graph.ids;
    for (let i = 0; i < this.#t.count; i++) yield [ids[i], this.#at(i)];
  }
  *keys() {
    const ids = this.#t.graph.ids;
    for (let i = 0; i < this.#t.count; i++) yield ids[i];
  }
  *values() {
    for (let i = 0; i < this.#t.count; i++) yield this.#at(i);
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
function buildResult(table, run) {
  const counts = { succeeded: 0, failed: 0, cancelled: 0, skipped: 0 };
  for (let i = 0; i < table.count; i++) counts[STATUS[table.state[i]]]++;
  return {
    job: run.job,
    status: run.status,
    tasks: new TaskResultsView(table),
    error: run.error,
    counts,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    durationMs: run.finishedAt - run.startedAt,
    output: (id) => {
      const i = table.indexOf(id);
      return i !== void 0 && table.state[i] === SUCCEEDED ? table.outputs[i] : void 0;
    }
  };
}

function planJob(graph) {
  const { ids, policies, depEnd, name } = graph;
  const n = ids.length;
  const edges = n === 0 ? 0 : depEnd[n - 1];
  const depStart = new Int32Array(n + 1);
  depStart.set(depEnd.subarray(0, n), 1);
  resolveForward(graph, depStart, n);
  const deps = graph.deps.subarray(0, edges);
  const outCount = new Int32Array(n + 1);
  for (let e = 0; e < edges; e++) outCount[deps[e]]++;
  const outStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) outStart[i + 1] = outStart[i] + outCount[i];
  const fill = outStart.slice(0, n);
  const dependents = new Int32Array(edges);
  for (let i = 0; i < n; i++) for (let e = depStart[i], end = depStart[i + 1]; e < end; e++) dependents[fill[deps[e]]++] = i;
  const indegree = new Int32Array(n);
  const order = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) {
    indegree[i] = depStart[i + 1] - depStart[i];
    if (indegree[i] === 0) order[tail++] = i;
  }
  for (let head = 0; head < tail; head++) {
    const j = order[head];
    for (let e = outStart[j], end = outStart[j + 1]; e < end; e++) {
      const d = dependents[e];
      if (--indegree[d] === 0) order[tail++] = d;
    }
  }
  if (tail < n) throw new CycleError(name, findCycle(ids, depStart, deps, indegree));
  const priority = new Float64Array(n);
  const rank = new Int32Array(n);
  for (let k = n - 1; k >= 0; k--) {
    const i = order[k];
    let p = policies[i]?.priority ?? 0;
    let r = 0;
    for (let e = outStart[i], end = outStart[i + 1]; e < end; e++) {
      const d = dependents[e];
      if (priority[d] > p) p = priority[d];
      if (rank[d] + 1 > r) r = rank[d] + 1;
    }
    priority[i] = p;
    rank[i] = r;
  }
  return { count: n, depStart, deps, outStart, dependents, priority, rank };
}
function resolveForward(graph, depStart, n) {
  if (graph.forward.size === 0) return;
  let task = 0;
  for (const [edge, dep] of [...graph.forward].sort((a, b) => a[0] - b[0])) {
    while (task < n && depStart[task + 1] <= edge) task++;
    if (task >= n) break;
    graph.deps[edge] = resolveDependency(graph, graph.ids[task], dep);
    graph.forward.delete(edge);
  }
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
function findCycle(ids, depStart, deps, indegree) {
  const seenAt = /* @__PURE__ */ new Map();
  const path = [];
  let i = indegree.findIndex((d) => d > 0);
  while (!seenAt.has(i)) {
    seenAt.set(i, path.length);
    path.push(i);
    let next = -1;
    for (let e = depStart[i]; e < depStart[i + 1]; e++) {
      if (indegree[deps[e]] > 0) {
        next = deps[e];
        break;
      }
    }
    i = next;
  }
  const cycle = path.slice(seenAt.get(i)).map((k) => ids[k]);
  cycle.push(ids[i]);
  return cycle;
}

class TaskTable {
  graph;
  /** Tasks in the run. */
  count;
  /** Tasks planned at the start (their edges live in `plan`). */
  planned;
  plan;
  state;
  remaining;
  attempts;
  failedAttempts;
  nodeLosses;
  priority;
  rank;
  /** NaN until the first attempt starts / the task reaches its final state. */
  startedAt;
  finishedAt;
  outputs;
  errors;
  current;
  #ownsGraph = false;
  #addedDeps = [];
  #moreDependents = void 0;
  /** Plans the graph; throws E_UNKNOWN_DEPENDENCY or E_CYCLE. */
  constructor(graph) {
    this.graph = graph;
    this.plan = planJob(graph);
    const n = this.count = this.planned = this.plan.count;
    this.state = new Uint8Array(n).fill(PENDING);
    this.remaining = new Int32Array(n);
    for (let i = 0; i < n; i++) this.remaining[i] = this.plan.depStart[i + 1] - this.plan.depStart[i];
    this.attempts = new Int32Array(n);
    this.failedAttempts = new Int32Array(n);
    this.nodeLosses = new Int32Array(n);
    this.priority = this.plan.priority;
    this.rank = this.plan.rank;
    this.startedAt = new Float64Array(n).fill(NaN);
    this.finishedAt = new Float64Array(n).fill(NaN);
    this.outputs = new Array(n).fill(void 0);
    this.errors = new Array(n).fill(void 0);
    this.current = new Array(n).fill(void 0);
  }
  /** The index of a task of this run, or undefined. */
  indexOf(id) {
    const i = typeof id === "string" ? this.graph.index.get(id) : void 0;
    return i !== void 0 && i < this.count ? i : void 0;
  }
  /** The index of a task of this run, or E_UNKNOWN_TASK naming the operation. */
  require(id, operation) {
    const i = this.indexOf(id);
    if (i === void 0) {
      throw new FlotillaError("E_UNKNOWN_TASK", `${operation}: the run of job "${this.graph.name}" has no task ${typeof id === "string" ? `"${id}"` : describe(id)}`);
    }
    return i;
  }
  /** Dependencies of task i. */
  depsOf(i) {
    if (i >= this.planned) return this.#addedDeps[i - this.planned];
    return this.plan.deps.subarray(this.plan.depStart[i], this.plan.depStart[i + 1]);
  }
  /** Dependents of task i gained after planning (tasks added to the running job), if any. */
  moreDependents(i) {
    return this.#moreDependents?.get(i);
  }
  /** Every dependent of task i (off the hot path: it allocates). */
  dependentsOf(i) {
    const list = [];
    if (i < this.planned) {
      const { outStart, dependents } = this.plan;
      for (let e = outStart[i]; e < outStart[i + 1]; e++) list.push(dependents[e]);
    }
    const more = this.moreDependents(i);
    if (more !== void 0) list.push(...more);
    return list;
  }
  /** Checks and adds a task to the run; throws the builder's errors and leaves the run unchanged then. */
  add(id, optionsOrBody, body) {
    if (!this.#ownsGraph) {
      this.graph = copyGraph(this.graph, this.count);
      this.#ownsGraph = true;
    }
    const graph = this.graph;
    const i = addToGraph(graph, id, optionsOrBody, body);
    const first = i === 0 ? 0 : graph.depEnd[i - 1];
    try {
      for (let e = first; e < graph.edges; e++) {
        const name = graph.forward.get(e);
        if (name !== void 0) resolveDependency(graph, graph.ids[i], name);
      }
    } catch (error) {
      removeLastTask(graph);
      throw error;
    }
    const deps = Array.from(graph.deps.subarray(first, graph.edges));
    if (i === this.state.length) this.#grow();
    this.count++;
    this.#addedDeps.push(deps);
    const more = this.#moreDependents ??= /* @__PURE__ */ new Map();
    for (const d of deps) {
      const list = more.get(d);
      if (list === void 0) more.set(d, [i]);
      else list.push(i);
    }
    this.state[i] = PENDING;
    this.priority[i] = graph.policies[i]?.priority ?? 0;
    this.rank[i] = 0;
    this.startedAt[i] = NaN;
    this.finishedAt[i] = NaN;
    this.outputs.push(void 0);
    this.errors.push(void 0);
    this.current.push(void 0);
    return i;
  }
  #grow() {
    const size = Math.max(8, this.state.length * 2);
    this.state = grown(this.state, new Uint8Array(size));
    this.remaining = grown(this.remaining, new Int32Array(size));
    this.attempts = grown(this.attempts, new Int32Array(size));
    this.failedAttempts = grown(this.failedAttempts, new Int32Array(size));
    this.nodeLosses = grown(this.nodeLosses, new Int32Array(size));
    this.priority = grown(this.priority, new Float64Array(size));
    this.rank = grown(this.rank, new Int32Array(size));
    this.startedAt = grown(this.startedAt, new Float64Array(size));
    this.finishedAt = grown(this.finishedAt, new Float64Array(size));
  }
}
function grown(from, to) {
  to.set(from);
  return to;
}

class Executor {
  emitter = new EventEmitter();
  runtime;
  result;
  #options;
  #provider;
  #faults;
  controlled;
  #t;
  #queue;
  #retryTimers = /* @__PURE__ */ new Map();
  #stopping = /* @__PURE__ */ new Set();
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
    this.controlled = typeof options.runtime.defer === "function";
    this.#t = new TaskTable(graph);
    this.#queue = new ReadyQueue(this.#t.priority, this.#t.rank);
    this.#open = this.#t.count;
    this.result = new Promise((resolve) => this.#resolve = resolve);
  }
  get jobName() {
    return this.#t.graph.name;
  }
  /** "running" until the run settles, then its final status. */
  get status() {
    return this.#phase === "ended" ? this.#jobStatus() : "running";
  }
  /**
   * Starts the run. Called once, a microtask after `start()`, so listeners added right after it see
   * everything; `early` runs after job:start and before any task is dispatched (a cancellation made
   * before the run's first microtask must stop tasks from running, even synchronous ones).
   */
  begin(early) {
    if (this.#phase !== "created") return;
    this.#phase = "running";
    this.#startTime = this.runtime.now();
    if (typeof this.runtime.observe === "function") this.#observe();
    const signal = this.#options.signal;
    if (signal !== void 0 && !signal.aborted) {
      this.#onCallerAbort = () => this.#cancelRun("signal", signal.reason);
      signal.addEventListener("abort", this.#onCallerAbort, { once: true });
    }
    this.#emitJobStart();
    if (signal?.aborted) this.#cancelRun("signal", signal.reason);
    else early?.();
    if (this.#cancel !== void 0) return;
    const t = this.#t;
    const n = t.count;
    for (let i = 0; i < n; i++) if (t.remaining[i] === 0 && t.state[i] === PENDING) this.#makeReady(i);
    if (this.#open > 0) this.#startNode();
    this.#pump();
  }
  // ---- public operations (through RunHandle) ----
  cancel(reason) {
    if (this.#phase === "created") this.begin(() => this.#cancelRun("cancel", reason));
    else this.#cancelRun("cancel", reason);
  }
  cancelTask(id, reason) {
    const i = this.#t.require(id, "cancelTask");
    let cancelled = false;
    const cancel = () => {
      if (this.#phase !== "running" || this.#t.state[i] >= SUCCEEDED) return;
      const why = reason === void 0 ? "" : `: ${reason instanceof Error ? reason.message : String(reason)}`;
      this.#cancelOne(i, new CancelledError(`task "${id}" was cancelled${why}`, "cancelTask", reason));
      this.#skipDependents(i);
      cancelled = true;
    };
    if (this.#phase === "created") this.begin(cancel);
    else {
      cancel();
      this.#pump();
    }
    return cancelled;
  }
  addTask(id, optionsOrBody, body) {
    if (this.#phase === "ending" || this.#phase === "ended" || this.#cancel !== void 0) {
      throw new FlotillaError(
        "E_RUN_ENDED",
        `cannot add task ${typeof id === "string" ? `"${id}"` : describe(id)}: the run of job "${this.#t.graph.name}" has ${this.#cancel ? "been cancelled" : "ended"}`
      );
    }
    const t = this.#t;
    const i = t.add(id, optionsOrBody, body);
    this.#queue.rekey(t.priority, t.rank);
    this.#open++;
    let remaining = 0;
    let blocker = -1;
    const deps = t.depsOf(i);
    for (let k = 0; k < deps.length; k++) {
      const d = deps[k];
      const s = t.state[d];
      if (s === SUCCEEDED || s === FAILED && this.#satisfies(d)) continue;
      if (s >= SUCCEEDED) blocker = d;
      else remaining++;
    }
    t.remaining[i] = remaining;
    this.#raiseAncestors(i);
    if (this.#phase === "created") return;
    if (blocker >= 0) this.#skip(i, blocker);
    else if (remaining === 0) this.#makeReady(i);
    this.#pump();
  }
  // ---- AttemptHost ----
  depsOf(task) {
    return this.#collect(task, SUCCEEDED, this.#t.outputs);
  }
  failuresOf(task) {
    return this.#collect(task, FAILED, this.#t.errors);
  }
  /** `values[d]` by id, for each dependency d of `task` in state `state`. */
  #collect(task, state, values) {
    const t = this.#t;
    const deps = t.depsOf(task);
    const out = {};
    for (let k = 0; k < deps.length; k++) {
      const d = deps[k];
      if (t.state[d] === state) put(out, t.graph.ids[d], values[d]);
    }
    return out;
  }
  // ---- the loop ----
  /** Starts ready tasks while there is capacity. Re-entrant calls (from synchronous completions) return at once. */
  #pump() {
    if (this.#pumping || this.#phase !== "running") return;
    this.#pumping = true;
    try {
      const queue = this.#queue;
      const state = this.#t.state;
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
    const number = ++this.#t.attempts[i];
    const a = new Attempt(this, i, this.#t.graph.ids[i], number, this.#node);
    this.#t.state[i] = RUNNING;
    this.#t.current[i] = a;
    this.#busy++;
    if (number === 1) this.#t.startedAt[i] = this.runtime.now();
    if (this.emitter.listenerCount("task:start") > 0) {
      this.#emit("task:start", { type: "task:start", taskId: a.taskId, attempt: number, at: this.runtime.now() });
    }
    if (a.decided) {
      this.#release(a);
      return;
    }
    const policy = this.#t.graph.policies[i];
    if (policy !== void 0 && policy.timeoutMs > 0) {
      a.timer = this.runtime.setTimer(policy.timeoutMs, () => this.#timedOut(a, policy.timeoutMs), this.#label("timeout", a));
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
      result = this.#provider.run(a.node, this.#t.graph.bodies[i], a);
    } catch (error) {
      this.#settle(a, false, error);
      return;
    }
    if (isThenable(result)) {
      if (this.controlled) {
        const label = this.#label("complete", a);
        result.then(
          (value) => this.runtime.defer(label, () => this.#settle(a, true, value)),
          (error) => this.runtime.defer(label, () => this.#settle(a, false, error))
        );
      } else {
        result.then(
          (value) => this.#settle(a, true, value),
          (error) => this.#settle(a, false, error)
        );
      }
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
      this.#t.current[a.task] = void 0;
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
    if (a.timer !== void 0) this.runtime.clearTimer(a.timer);
    a.timer = void 0;
  }
  #timedOut(a, timeoutMs) {
    a.timer = void 0;
    if (a.decided) return;
    a.decided = true;
    this.#t.current[a.task] = void 0;
    const error = new TimeoutError(a.taskId, a.attempt, timeoutMs);
    this.#abort(a, error);
    this.#attemptFailed(a, error);
    this.#pump();
  }
  /** Aborts a running attempt; its slot stays taken until the body settles or the grace period ends. */
  #abort(a, reason) {
    a.abort(reason);
    if (a.released) return;
    if (a.timer !== void 0) this.runtime.clearTimer(a.timer);
    a.timer = this.runtime.setTimer(
      this.#options.cancelGraceMs,
      () => {
        a.timer = void 0;
        if (a.released) return;
        this.#release(a);
        if (this.emitter.listenerCount("task:abandoned") > 0) {
          this.#emit("task:abandoned", { type: "task:abandoned", taskId: a.taskId, attempt: a.attempt, at: this.runtime.now() });
        }
        this.#pump();
      },
      this.#label("grace", a)
    );
  }
  #succeed(a, output) {
    const i = a.task;
    this.#t.state[i] = SUCCEEDED;
    this.#t.outputs[i] = output;
    this.#t.finishedAt[i] = this.runtime.now();
    this.#open--;
    if (this.emitter.listenerCount("task:succeeded") > 0) {
      this.#emit("task:succeeded", { type: "task:succeeded", taskId: a.taskId, attempt: a.attempt, output, at: this.#t.finishedAt[i] });
    }
    this.#releaseDependents(i);
  }
  #attemptFailed(a, error) {
    const i = a.task;
    if (error instanceof NodeLostError && this.#cancel === void 0 && this.#t.nodeLosses[i] < this.#options.maxNodeLosses) {
      this.#t.nodeLosses[i]++;
      if (this.#node === a.node) this.#replaceNode();
      if (this.emitter.listenerCount("task:requeued") > 0) {
        this.#emit("task:requeued", { type: "task:requeued", taskId: a.taskId, attempt: a.attempt, error, at: this.runtime.now() });
      }
      this.#makeReady(i);
      return;
    }
    const failed = ++this.#t.failedAttempts[i];
    const policy = this.#t.graph.policies[i] ?? DEFAULT_POLICY;
    if (failed <= policy.retries && this.#cancel === void 0 && !(error instanceof NodeLostError)) {
      this.#retry(i, a, error, policy, failed + 1);
      return;
    }
    this.#fail(i, error);
  }
  #retry(i, a, error, policy, nextTry) {
    const delayMs = backoffDelay(policy, nextTry, this.runtime.random);
    this.#t.state[i] = RETRYING;
    if (delayMs > 0) {
      const timer = this.runtime.setTimer(
        delayMs,
        () => {
          this.#retryTimers.delete(i);
          if (this.#t.state[i] !== RETRYING) return;
          this.#makeReady(i);
          this.#pump();
        },
        this.#label("retry", a)
      );
      this.#retryTimers.set(i, timer);
    }
    if (this.emitter.listenerCount("task:retry") > 0) {
      this.#emit("task:retry", { type: "task:retry", taskId: a.taskId, attempt: a.attempt, error, delayMs, at: this.runtime.now() });
    }
    if (delayMs <= 0 && this.#t.state[i] === RETRYING) this.#makeReady(i);
  }
  #fail(i, error) {
    this.#t.state[i] = FAILED;
    this.#t.errors[i] = error;
    this.#t.finishedAt[i] = this.runtime.now();
    this.#open--;
    if (this.#firstError === void 0) this.#firstError = error;
    if (this.emitter.listenerCount("task:failed") > 0) {
      this.#emit("task:failed", { type: "task:failed", taskId: this.#t.graph.ids[i], attempts: this.#t.attempts[i], error, at: this.#t.finishedAt[i] });
    }
    if (this.#satisfies(i)) this.#releaseDependents(i);
    else this.#skipDependents(i);
    if (this.#options.failFast) this.#cancelRun("failFast", error);
  }
  #satisfies(i) {
    return this.#t.graph.policies[i]?.satisfy === true;
  }
  #makeReady(i) {
    this.#t.state[i] = READY;
    this.#queue.push(i);
    if (this.emitter.listenerCount("task:ready") > 0) {
      this.#emit("task:ready", { type: "task:ready", taskId: this.#t.graph.ids[i], at: this.runtime.now() });
    }
  }
  #releaseDependents(i) {
    const t = this.#t;
    if (i < t.planned) {
      const { outStart, dependents } = t.plan;
      for (let e = outStart[i], end = outStart[i + 1]; e < end; e++) this.#dependencySettled(dependents[e]);
    }
    const more = t.moreDependents(i);
    if (more !== void 0) for (let k = 0; k < more.length; k++) this.#dependencySettled(more[k]);
  }
  #dependencySettled(d) {
    const t = this.#t;
    if (--t.remaining[d] === 0 && t.state[d] === PENDING) this.#makeReady(d);
  }
  /** Skips every pending transitive dependent of `i` (which failed, was cancelled or was skipped). */
  #skipDependents(i) {
    const stack = [i];
    while (stack.length > 0) {
      const j = stack.pop();
      for (const d of this.#t.dependentsOf(j)) {
        if (this.#t.state[d] !== PENDING) continue;
        this.#skip(d, j);
        stack.push(d);
      }
    }
  }
  #skip(d, because) {
    const ids = this.#t.graph.ids;
    const error = new DependencyFailedError(ids[d], ids[because], STATE_NAMES[this.#t.state[because]], this.#t.errors[because]);
    this.#t.state[d] = SKIPPED;
    this.#t.errors[d] = error;
    this.#t.finishedAt[d] = this.runtime.now();
    this.#open--;
    if (this.emitter.listenerCount("task:skipped") > 0) {
      this.#emit("task:skipped", { type: "task:skipped", taskId: ids[d], error, at: this.#t.finishedAt[d] });
    }
  }
  /** Moves a non-terminal task to "cancelled", aborting its running attempt or pending retry. */
  #cancelOne(i, error) {
    const s = this.#t.state[i];
    if (s === RETRYING) {
      const timer = this.#retryTimers.get(i);
      if (timer !== void 0) this.runtime.clearTimer(timer);
      this.#retryTimers.delete(i);
    } else if (s === RUNNING) {
      const a = this.#t.current[i];
      this.#t.current[i] = void 0;
      a.decided = true;
      this.#abort(a, error);
    }
    this.#t.state[i] = CANCELLED;
    this.#t.errors[i] = error;
    this.#t.finishedAt[i] = this.runtime.now();
    this.#open--;
    if (this.emitter.listenerCount("task:cancelled") > 0) {
      this.#emit("task:cancelled", { type: "task:cancelled", taskId: this.#t.graph.ids[i], error, at: this.#t.finishedAt[i] });
    }
  }
  #cancelRun(source, reason) {
    if (this.#cancel !== void 0 || this.#phase !== "running") return;
    const why = reason === void 0 ? "" : `: ${reason instanceof Error ? reason.message : String(reason)}`;
    const by = { signal: "by its signal", cancel: "by cancel()", cancelTask: "", failFast: "by failFast after a task failed", fault: "by an injected fault" }[source];
    this.#cancel = new CancelledError(`the run of job "${this.#t.graph.name}" was cancelled ${by}${why}`, source, reason);
    const state = this.#t.state;
    for (let i = 0; i < this.#t.count; i++) if (state[i] < SUCCEEDED) this.#cancelOne(i, this.#cancel);
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
      jobName: this.#t.graph.name,
      taskId: task >= 0 ? this.#t.graph.ids[task] : void 0,
      attempt: a?.attempt ?? (task >= 0 ? this.#t.attempts[task] + 1 : void 0),
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
        else this.#stopNode(node);
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
    this.#stopNode(lost);
    if (this.#open > 0) this.#startNode();
  }
  /** No node could be started: every task still waiting fails with that error. */
  #nodeFailed(error) {
    if (this.#phase !== "running") return;
    const cause = new NodeLostError("(none)", `provider "${this.#provider.name}" could not start a node: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    const state = this.#t.state;
    for (let i = 0; i < this.#t.count; i++) if (state[i] < SUCCEEDED && state[i] !== RUNNING) this.#fail(i, cause);
    this.#pump();
  }
  /** Stops a node; the run does not settle before every stop has finished. */
  #stopNode(node) {
    const stopping = (async () => {
      try {
        await this.#provider.stopNode(node);
      } catch {
      }
    })();
    this.#stopping.add(stopping);
    void stopping.then(() => this.#stopping.delete(stopping));
  }
  // ---- the end ----
  async #finish() {
    if (this.#phase !== "running") return;
    this.#phase = "ending";
    if (this.#onCallerAbort !== void 0) this.#options.signal.removeEventListener("abort", this.#onCallerAbort);
    this.#onCallerAbort = void 0;
    if (this.#nodeStarting !== void 0) await this.#nodeStarting;
    if (this.#node !== void 0) this.#stopNode(this.#node);
    this.#node = void 0;
    await Promise.all(this.#stopping);
    this.#phase = "ended";
    const finishedAt = this.runtime.now();
    const status = this.#jobStatus();
    const result = buildResult(this.#t, {
      job: this.#t.graph.name,
      status,
      error: status === "cancelled" && this.#cancel !== void 0 ? this.#cancel : this.#firstError ?? this.#firstCancel(),
      startedAt: this.#startTime,
      finishedAt
    });
    if (this.emitter.listenerCount("job:end") > 0) {
      this.#emit("job:end", { type: "job:end", job: this.#t.graph.name, status, result, at: finishedAt });
    }
    this.emitter.removeAllListeners();
    this.#resolve(result);
  }
  #jobStatus() {
    if (this.#cancel !== void 0 && this.#cancel.source !== "failFast") return "cancelled";
    const states = this.#t.state.subarray(0, this.#t.count);
    if (this.#firstError !== void 0 || states.includes(FAILED)) return "failed";
    return states.includes(CANCELLED) ? "cancelled" : "succeeded";
  }
  #firstCancel() {
    const i = this.#t.state.subarray(0, this.#t.count).indexOf(CANCELLED);
    return i < 0 ? void 0 : this.#t.errors[i];
  }
  // ---- helpers ----
  /** A trace label for a timer or completion of attempt `a`, only under a controlled runtime. */
  #label(kind, a) {
    return this.controlled ? `${kind} ${a.taskId}#${a.attempt}` : void 0;
  }
  /** Lets a testing runtime watch this run (its invariants are checked after every step). */
  #observe() {
    const t = this.#t;
    this.runtime.observe({
      job: t.graph.name,
      on: (event, listener) => void this.emitter.on(event, listener),
      busy: () => this.#busy,
      capacity: () => this.#capacity,
      dependencies: (id) => Array.from(t.depsOf(t.require(id, "observe")), (d) => t.graph.ids[d]),
      satisfiesOnFailure: (id) => this.#satisfies(t.require(id, "observe")),
      settled: () => this.#phase === "ended"
    });
  }
  #emitJobStart() {
    if (this.emitter.listenerCount("job:start") > 0) {
      this.#emit("job:start", { type: "job:start", job: this.#t.graph.name, tasks: this.#t.graph.ids.length, at: this.#startTime });
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
  /** After a task is added to a running job: its dependencies may now lead to a longer path or a higher priority. */
  #raiseAncestors(task) {
    const t = this.#t;
    let reorder = false;
    const stack = [task];
    while (stack.length > 0) {
      const j = stack.pop();
      const deps = t.depsOf(j);
      for (let k = 0; k < deps.length; k++) {
        const d = deps[k];
        const r = t.rank[j] + 1;
        const p = t.priority[j];
        if (t.rank[d] >= r && t.priority[d] >= p) continue;
        if (t.rank[d] < r) t.rank[d] = r;
        if (t.priority[d] < p) t.priority[d] = p;
        if (t.state[d] === READY) reorder = true;
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

export { CancelledError, CycleError, DependencyFailedError, FlotillaError, Job, NodeLostError, RunHandle, TimeoutError, inProcess, realRuntime, run, start };
