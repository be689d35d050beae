import { F as FlotillaError, d as describe, r as realRuntime } from './chunks/runtime-a0N9_cBk.js';

const channel = typeof MessageChannel === "function" ? new MessageChannel() : void 0;
const receiver = channel?.port1;
const sender = channel?.port2;
const waiting = [];
if (receiver !== void 0) {
  receiver.onmessage = () => {
    const resolve = waiting.shift();
    if (waiting.length === 0) receiver.unref?.();
    resolve?.();
  };
  receiver.unref?.();
}
const realSetTimeout = globalThis.setTimeout;
const macrotask = () => new Promise((resolve) => {
  if (sender === void 0) return void realSetTimeout(resolve, 0);
  if (waiting.length === 0) receiver.ref?.();
  waiting.push(resolve);
  sender.postMessage(0);
});

const WAITING = 0;
const READY = 1;
const GONE = 2;
class Controller {
  runtime;
  /** Choices made, ready counts seen, virtual times and labels chosen, by step. */
  choices = [];
  counts = [];
  times = [];
  labels = [];
  faults = [];
  observations = [];
  step = 0;
  #now = 0;
  #seq = 0;
  #live = 0;
  // events neither run nor cleared
  #ready = [];
  #timers = [];
  // a binary heap by (due, seq)
  #strategy;
  #random;
  #replay;
  #actorOf = (k) => actorOf(this.#ready[k].label);
  constructor(options) {
    this.#strategy = options.strategy;
    this.#random = options.random;
    this.#replay = options.replay;
    const decide = options.fault;
    const runtime = {
      now: () => this.#now,
      setTimer: (ms, callback, label) => this.#addTimer(ms, callback, label ?? "timer"),
      clearTimer: (handle) => this.#clearTimer(handle),
      random: this.#random,
      defer: (label, deliver) => {
        this.#live++;
        this.#ready.push({ seq: this.#seq++, due: this.#now, label, run: deliver, state: READY });
      },
      observe: (run) => void this.observations.push(run)
    };
    if (decide !== void 0) {
      runtime.fault = (point, context) => {
        const action = decide(point, context, this.step);
        if (action !== void 0) this.faults.push({ step: this.step, point, context, action });
        return action;
      };
    }
    this.runtime = runtime;
  }
  get now() {
    return this.#now;
  }
  /** Timers set and neither fired nor cleared, plus completions not yet delivered. */
  get pending() {
    return this.#live;
  }
  /** Labels of everything still pending (for leak and deadlock messages). */
  pendingLabels() {
    return [...this.#ready, ...this.#timers.filter((t) => t.state === WAITING)].map((e) => e.label);
  }
  /**
   * Runs ready events one at a time until `done()` holds. Returns undefined when it does, or why it
   * stopped: nothing is pending while the test waits (stuck), the step bound, or an event threw.
   */
  async drive(done, maxSteps, afterStep) {
    for (; ; ) {
      await macrotask();
      if (done()) return void 0;
      if (this.#ready.length === 0 && !this.#advanceClock()) return { kind: "stuck" };
      if (this.step >= maxSteps) return { kind: "maxSteps" };
      const count = this.#ready.length;
      let k;
      try {
        k = this.#replay !== void 0 ? this.#replayed(count) : this.#strategy.pick(count, this.step, this.#actorOf);
      } catch (error) {
        return { kind: "error", error };
      }
      const event = this.#ready[k];
      this.#ready.splice(k, 1);
      event.state = GONE;
      this.#live--;
      this.choices.push(k);
      this.counts.push(count);
      this.times.push(this.#now);
      this.labels.push(event.label);
      this.step++;
      try {
        event.run();
        afterStep();
      } catch (error) {
        return { kind: "error", error };
      }
    }
  }
  /** The recorded choice for this step, after checking that the same events are ready as when it was recorded. */
  #replayed(count) {
    const r = this.#replay;
    const step = this.step;
    if (step >= r.choices.length) {
      throw new FlotillaError("E_SCHEDULE_DIVERGED", `replay diverged after step ${step}: the trace ended there, but the test goes on (${count} events ready)`);
    }
    const k = r.choices[step];
    if (count !== r.counts[step] || this.#ready[k]?.label !== r.labels[step]) {
      throw new FlotillaError(
        "E_SCHEDULE_DIVERGED",
        `replay diverged at step ${step + 1}: the trace had ${r.counts[step]} ready events and ran "${r.labels[step]}"; now ${count} are ready and choice ${k + 1} is "${this.#ready[k]?.label ?? "(none)"}". A trace replays only on the same code, job and options.`
      );
    }
    return k;
  }
  #addTimer(ms, callback, label) {
    const event = { seq: this.#seq++, due: this.#now + Math.max(0, ms), label, run: callback, state: WAITING };
    this.#live++;
    heapPush(this.#timers, event);
    return event;
  }
  #clearTimer(handle) {
    const event = handle;
    if (event === null || typeof event !== "object" || event.state === GONE) return;
    if (event.state === READY) this.#ready.splice(this.#ready.indexOf(event), 1);
    event.state = GONE;
    this.#live--;
  }
  /** Moves every timer due at the earliest time to the ready list; false when none is pending. */
  #advanceClock() {
    const timers = this.#timers;
    while (timers.length > 0 && timers[0].state === GONE) heapPop(timers);
    if (timers.length === 0) return false;
    const due = timers[0].due;
    if (due > this.#now) this.#now = due;
    while (timers.length > 0 && (timers[0].state === GONE || timers[0].due === due)) {
      const event = heapPop(timers);
      if (event.state === GONE) continue;
      event.state = READY;
      this.#ready.push(event);
    }
    return true;
  }
}
function actorOf(label) {
  const space = label.indexOf(" ");
  if (space < 0) return label;
  const hash = label.indexOf("#", space);
  return label.slice(space + 1, hash < 0 ? void 0 : hash);
}
function before(a, b) {
  return a.due < b.due || a.due === b.due && a.seq < b.seq;
}
function heapPush(heap, event) {
  let i = heap.length;
  heap.push(event);
  while (i > 0) {
    const parent = i - 1 >> 1;
    if (!before(event, heap[parent])) break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = event;
}
function heapPop(heap) {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length > 0) {
    let i = 0;
    for (; ; ) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && before(heap[child + 1], heap[child])) child++;
      if (!before(heap[child], last)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = last;
  }
  return top;
}

function readEnv(name) {
  const g = globalThis;
  try {
    const value = g.process?.env?.[name] ?? g.Deno?.env?.get(name);
    return value === "" ? void 0 : value;
  } catch {
    return void 0;
  }
}

const ACTION_KINDS = ["fail", "timeout", "cancel"];
function checkFaultPlan(plan) {
  const rules = /* @__PURE__ */ new Map();
  if (plan === void 0) return rules;
  if (typeof plan !== "object" || plan === null) throw bad("faults", "an object of rules by fault point", plan);
  for (const [point, value] of Object.entries(plan)) {
    const list = Array.isArray(value) ? value : [value];
    list.forEach((rule, i) => {
      const where = `faults["${point}"]${Array.isArray(value) ? `[${i}]` : ""}`;
      if (typeof rule !== "object" || rule === null) throw bad(where, "a rule { probability?, when?, action, times? }", rule);
      const { probability, when, action, times } = rule;
      if (probability !== void 0 && !(typeof probability === "number" && probability >= 0 && probability <= 1)) {
        throw bad(`${where}.probability`, "a number from 0 to 1", probability);
      }
      if (when !== void 0 && typeof when !== "function") throw bad(`${where}.when`, "a function (site) => boolean", when);
      if (typeof action !== "object" || action === null || !ACTION_KINDS.includes(action.kind)) {
        throw bad(`${where}.action`, `{ kind: "fail" | "timeout" | "cancel" }`, action);
      }
      if (times !== void 0 && !(Number.isInteger(times) && times >= 0)) throw bad(`${where}.times`, "an integer >= 0", times);
    });
    rules.set(point, list);
  }
  return rules;
}
function bad(option, expected, received) {
  return new FlotillaError("E_INVALID_OPTION", `explore: option ${option} must be ${expected}, received ${describe(received)}`);
}
function faultDecider(rules, random, stopAfterStep) {
  if (rules.size === 0) return void 0;
  const on = /* @__PURE__ */ new Map();
  const fired = /* @__PURE__ */ new Map();
  for (const list of rules.values()) {
    for (const rule of list) on.set(rule, rule.probability === void 0 || rule.probability >= 1 || random() < 0.5);
  }
  return (point, context, step) => {
    if (step >= stopAfterStep) return void 0;
    const list = rules.get(point);
    if (list === void 0) return void 0;
    for (const rule of list) {
      if (!on.get(rule)) continue;
      if ((fired.get(rule) ?? 0) >= (rule.times ?? Infinity)) continue;
      if (rule.when !== void 0 && !rule.when({ ...context, step })) continue;
      if (rule.probability !== void 0 && random() >= rule.probability) continue;
      fired.set(rule, (fired.get(rule) ?? 0) + 1);
      return rule.action;
    }
    return void 0;
  };
}

class InvariantViolation extends Error {
  get name() {
    return "InvariantViolation";
  }
}
class RunInvariants {
  #run;
  #terminal = /* @__PURE__ */ new Map();
  #violation;
  #size = -1;
  constructor(run) {
    this.#run = run;
    const terminal = (status) => (e) => {
      const before = this.#terminal.get(e.taskId);
      if (before !== void 0) this.#fail(`task "${e.taskId}" reached a second terminal state: ${before}, then ${status}`);
      this.#terminal.set(e.taskId, status);
    };
    run.on("task:succeeded", terminal("succeeded"));
    run.on("task:failed", terminal("failed"));
    run.on("task:cancelled", terminal("cancelled"));
    run.on("task:skipped", terminal("skipped"));
    run.on("task:start", (e) => {
      for (const dep of run.dependencies(e.taskId)) {
        const status = this.#terminal.get(dep);
        if (status === "succeeded" || status === "failed" && run.satisfiesOnFailure(dep)) continue;
        this.#fail(`task "${e.taskId}" started attempt ${e.attempt} while its dependency "${dep}" was ${status ?? "not finished"}`);
      }
    });
    run.on("job:end", (e) => void (this.#size = e.result.tasks.size));
  }
  #fail(message) {
    this.#violation ??= new InvariantViolation(`invariant violated in job "${this.#run.job}": ${message}`);
  }
  /** Throws the first violation seen, or a slot over-commit now. */
  check() {
    if (this.#violation !== void 0) throw this.#violation;
    const busy = this.#run.busy();
    const capacity = this.#run.capacity();
    if (busy > capacity && !this.#run.settled()) {
      throw new InvariantViolation(`invariant violated in job "${this.#run.job}": ${busy} attempts hold slots, but only ${capacity} may`);
    }
  }
  /** At the end of the test: the run settled, and every task reached exactly one terminal state. */
  finish() {
    this.check();
    if (!this.#run.settled()) throw new InvariantViolation(`the run of job "${this.#run.job}" had not settled when the test ended (await its result)`);
    if (this.#size !== this.#terminal.size) {
      throw new InvariantViolation(`invariant violated in job "${this.#run.job}": ${this.#size} tasks, but ${this.#terminal.size} reached a terminal state`);
    }
  }
}

const TRACE_VERSION = 1;
class ScheduleFailure extends FlotillaError {
  seed;
  iteration;
  strategy;
  step;
  trace;
  constructor(trace, cause, what = "schedule failed") {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      "E_SCHEDULE_FAILED",
      `${what} at step ${trace.choices.length} of iteration ${trace.iteration} (seed ${trace.seed}, strategy ${trace.strategy}): ${reason}
  replay it: await replay(test, failure), or rerun the test with FLOTILLA_REPLAY='${JSON.stringify(trace)}'
` + formatTrace(trace, 30),
      { cause }
    );
    this.seed = trace.seed;
    this.iteration = trace.iteration;
    this.strategy = trace.strategy;
    this.step = trace.choices.length;
    this.trace = trace;
  }
  get name() {
    return "ScheduleFailure";
  }
}
function formatTrace(trace, lastSteps = Infinity) {
  const from = Math.max(0, trace.choices.length - lastSteps);
  const faultsAt = /* @__PURE__ */ new Map();
  for (const f of trace.faults) faultsAt.set(f.step, [...faultsAt.get(f.step) ?? [], `${f.action} at ${f.point} (${f.where})`]);
  const lines = (faultsAt.get(0) ?? []).map((f) => `  before step 1  \u26A1 ${f}`);
  if (from > 0) lines.push(`  \u2026 ${from} earlier steps`);
  for (let s = from; s < trace.choices.length; s++) {
    const choice = trace.counts[s] > 1 ? ` [${trace.choices[s] + 1} of ${trace.counts[s]} ready]` : "";
    const faults = faultsAt.get(s + 1)?.map((f) => `  \u26A1 ${f}`).join("") ?? "";
    lines.push(`  step ${String(s + 1).padStart(4)}  t=${trace.times[s]}ms  ${trace.labels[s]}${choice}${faults}`);
  }
  return lines.join("\n");
}
function toTrace(from) {
  const trace = typeof from === "string" ? JSON.parse(from) : from instanceof ScheduleFailure ? from.trace : from;
  if (trace?.version !== TRACE_VERSION || !Array.isArray(trace.choices) || !Array.isArray(trace.counts)) {
    throw new FlotillaError("E_INVALID_OPTION", `replay: expected a ScheduleFailure, its trace, or the trace's JSON (version ${TRACE_VERSION})`);
  }
  return trace;
}

function serviceModel(runtime, name, options = {}) {
  const latency = options.latencyMs ?? [1, 10];
  const [min, max] = typeof latency === "number" ? [latency, latency] : latency;
  if (!(Number.isFinite(min) && Number.isFinite(max) && min >= 0 && max >= min)) {
    throw new FlotillaError("E_INVALID_OPTION", `service "${name}": option "latencyMs" must be a number >= 0 or [min, max] with 0 <= min <= max, received ${describe(latency)}`);
  }
  return {
    name,
    call(op, effect) {
      const ms = min + Math.floor(runtime.random() * (max - min + 1));
      const detail = `${name}.${op}`;
      return new Promise((resolve, reject) => {
        runtime.setTimer(
          ms,
          () => {
            const fault = runtime.fault?.("service.call", { point: "service.call", jobName: "", detail });
            if (fault?.kind === "fail") {
              reject(fault.error ?? new Error(`injected fault at service.call (${detail})`));
              return;
            }
            try {
              Promise.resolve(effect()).then(resolve, reject);
            } catch (error) {
              reject(error);
            }
          },
          `call ${detail}`
        );
      });
    }
  };
}

function randomStrategy() {
  let random = () => 0;
  return {
    name: "random",
    begin: (r) => void (random = r),
    pick: (count) => count === 1 ? 0 : Math.floor(random() * count),
    end: () => true
  };
}
function pctStrategy(depth = 3) {
  let random = () => 0;
  const priority = /* @__PURE__ */ new Map();
  let changeAt = [];
  let lowered = 0;
  let expectedSteps = 50;
  return {
    name: "pct",
    begin(r) {
      random = r;
      priority.clear();
      lowered = 0;
      changeAt = Array.from({ length: Math.max(0, depth - 1) }, () => Math.floor(random() * expectedSteps));
    },
    pick(count, step, actorOf) {
      if (count === 1 && !changeAt.includes(step)) return 0;
      let best = 0;
      let bestPriority = -Infinity;
      for (let k = 0; k < count; k++) {
        const actor = actorOf(k);
        let p = priority.get(actor);
        if (p === void 0) priority.set(actor, p = 1 + random());
        if (p > bestPriority) [best, bestPriority] = [k, p];
      }
      if (changeAt.includes(step)) priority.set(actorOf(best), -++lowered);
      return best;
    },
    end(steps) {
      expectedSteps = Math.max(1, steps);
      return true;
    }
  };
}
function exhaustiveStrategy() {
  const choices = [];
  const counts = [];
  let explored = 0;
  let complete = false;
  return {
    name: "exhaustive",
    get explored() {
      return explored;
    },
    get complete() {
      return complete;
    },
    begin: () => {
    },
    pick(count, step) {
      if (step < choices.length) {
        if (counts[step] !== count) {
          throw new FlotillaError(
            "E_SCHEDULE_DIVERGED",
            `exhaustive exploration: step ${step} had ${counts[step]} ready events before and ${count} now; the test is not deterministic under the controlled runtime (does it use real time, real I/O or an unseeded random source?)`
          );
        }
        return choices[step];
      }
      choices.push(0);
      counts.push(count);
      return 0;
    },
    end(steps) {
      explored++;
      choices.length = counts.length = Math.min(choices.length, steps);
      while (choices.length > 0 && choices[choices.length - 1] + 1 >= counts[counts.length - 1]) {
        choices.pop();
        counts.pop();
      }
      if (choices.length === 0) {
        complete = true;
        return false;
      }
      choices[choices.length - 1]++;
      return true;
    }
  };
}
function strategyFor(name, pctDepth) {
  if (name === "random") return randomStrategy();
  if (name === "pct") return pctStrategy(pctDepth);
  return exhaustiveStrategy();
}

function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = state + 1831565813 >>> 0;
    let t = state;
    t = Math.imul(t ^ t >>> 15, t | 1);
    t ^= t + Math.imul(t ^ t >>> 7, t | 61);
    return ((t ^ t >>> 14) >>> 0) / 4294967296;
  };
}
function virtualRuntime(options = {}) {
  let now = options.startAt ?? 0;
  let seq = 0;
  let fired = 0;
  let ticking = false;
  const timers = [];
  const idleWaiters = [];
  const random = seededRandom(options.seed ?? 1);
  const tick = () => {
    if (timers.length === 0) {
      ticking = false;
      for (const wake of idleWaiters.splice(0)) wake();
      return;
    }
    let first = 0;
    for (let i = 1; i < timers.length; i++) {
      const t = timers[i];
      const f = timers[first];
      if (t.due < f.due || t.due === f.due && t.seq < f.seq) first = i;
    }
    const [timer] = timers.splice(first, 1);
    if (timer.due > now) now = timer.due;
    fired++;
    try {
      timer.callback();
    } finally {
      void macrotask().then(tick);
    }
  };
  const ensureTicking = () => {
    if (ticking) return;
    ticking = true;
    void macrotask().then(tick);
  };
  const runtime = {
    now: () => now,
    setTimer(ms, callback) {
      const timer = { due: now + Math.max(0, ms), seq: seq++, callback };
      timers.push(timer);
      ensureTicking();
      return timer;
    },
    clearTimer(handle) {
      const i = timers.indexOf(handle);
      if (i >= 0) timers.splice(i, 1);
    },
    random,
    get pendingTimers() {
      return timers.length;
    },
    get firedTimers() {
      return fired;
    },
    idle() {
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        ensureTicking();
      });
    }
  };
  if (options.fault !== void 0) runtime.fault = options.fault;
  return runtime;
}

function watchUncontrolled() {
  const g = globalThis;
  let escaped;
  let rejection;
  let rejected = false;
  const originals = [];
  for (const name of ["setTimeout", "setInterval"]) {
    const original = g[name];
    if (typeof original !== "function") continue;
    originals.push([name, original]);
    g[name] = function(...args) {
      escaped ??= new Error(
        `the test started a real timer (${name}, ${String(args[1] ?? 0)} ms) that the controlled runtime does not control; use ctx.sleep in task bodies, t.runtime.setTimer, or a service model (t.service) for simulated latency`
      );
      return original.apply(this, args);
    };
  }
  const onRejection = (reason) => {
    if (!rejected) [rejected, rejection] = [true, reason ?? new Error("a promise was rejected with undefined and never handled")];
  };
  const onEvent = (event) => {
    event.preventDefault();
    onRejection(event.reason);
  };
  const host = globalThis;
  const viaProcess = typeof host.process?.on === "function";
  if (viaProcess) host.process.on("unhandledRejection", onRejection);
  else host.addEventListener?.("unhandledrejection", onEvent);
  return {
    escaped: () => escaped,
    rejection: () => rejected ? rejection : void 0,
    restore() {
      for (const [name, original] of originals) g[name] = original;
      if (viaProcess) host.process.off?.("unhandledRejection", onRejection);
      else host.removeEventListener?.("unhandledrejection", onEvent);
    }
  };
}

async function explore(body, options = {}) {
  const o = resolve(options);
  const replayJson = readEnv("FLOTILLA_REPLAY");
  if (replayJson !== void 0) {
    await replay(body, replayJson, options);
    return report(o, [], {}, 0, 0, 0);
  }
  const started = realRuntime.now();
  const stepCounts = [];
  const faultsFired = {};
  let hash = 2166136261;
  let bounded = 0;
  const exhaustive = o.strategy === "exhaustive" ? exhaustiveStrategy() : void 0;
  const strategies = exhaustive !== void 0 ? [exhaustive] : o.strategy === "default" ? [strategyFor("random", o.pctDepth), strategyFor("pct", o.pctDepth)] : [strategyFor(o.strategy, o.pctDepth)];
  for (let i = 0; i < o.iterations; i++) {
    const seed = iterationSeed(o.seed, i);
    const strategy = strategies[i % strategies.length];
    const outcome = await runSchedule(body, o, { seed, iteration: i, strategy });
    stepCounts.push(outcome.trace.choices.length);
    for (const f of outcome.trace.faults) faultsFired[f.point] = (faultsFired[f.point] ?? 0) + 1;
    for (let s = 0; s < outcome.trace.choices.length; s++) hash = Math.imul(hash ^ outcome.trace.choices[s] * 31 + outcome.trace.counts[s], 16777619);
    if (outcome.bounded) bounded++;
    if (outcome.failure !== void 0) throw outcome.failure;
    if (exhaustive !== void 0 && !strategy.end(outcome.trace.choices.length)) break;
    if (exhaustive === void 0) strategy.end(outcome.trace.choices.length);
  }
  return report(o, stepCounts, faultsFired, bounded, realRuntime.now() - started, hash, exhaustive);
}
async function replay(body, failure, options = {}) {
  const trace = toTrace(failure);
  const o = { ...resolve(options), maxSteps: trace.maxSteps };
  const outcome = await runSchedule(body, o, { seed: trace.seed, iteration: trace.iteration, strategy: REPLAY, replaying: trace });
  if (outcome.failure !== void 0) throw outcome.failure;
}
const REPLAY = { name: "replay", begin: () => {
}, pick: () => 0, end: () => true };
async function runSchedule(body, o, s) {
  const scheduleRandom = seededRandom(s.seed ^ 1540483477);
  s.strategy.begin(scheduleRandom);
  const controller = new Controller({
    strategy: s.strategy,
    random: seededRandom(s.seed),
    fault: faultDecider(o.faults, scheduleRandom, o.faultsStopAfter),
    ...s.replaying !== void 0 ? { replay: s.replaying } : {}
  });
  const invariants = [];
  const eventually = [];
  const runs = [];
  let seen = 0;
  const t = {
    runtime: controller.runtime,
    iteration: s.iteration,
    seed: s.seed,
    get step() {
      return controller.step;
    },
    random: controller.runtime.random,
    invariant: (name, check) => void invariants.push({ name, check }),
    eventually: (name, check, options) => void eventually.push({ name, check, by: (Number.isFinite(o.faultsStopAfter) ? o.faultsStopAfter : 0) + (options?.withinSteps ?? o.maxSteps), held: false }),
    service: (name, options) => serviceModel(controller.runtime, name, options)
  };
  const afterStep = () => {
    while (seen < controller.observations.length) runs.push(new RunInvariants(controller.observations[seen++]));
    for (const run of runs) run.check();
    for (const inv of invariants) {
      if (inv.check() === false) throw new InvariantViolation(`invariant "${inv.name}" does not hold`);
    }
    for (const e of eventually) {
      if (!e.held && e.check()) e.held = true;
      if (!e.held && controller.step > e.by) throw new InvariantViolation(`liveness: "${e.name}" did not hold within ${e.by} steps`);
    }
  };
  const watch = watchUncontrolled();
  let done = false;
  let bodyError = void 0;
  let bodyFailed = false;
  let stop;
  try {
    Promise.resolve().then(() => body(t)).then(
      () => void (done = true),
      (error) => {
        bodyFailed = true;
        bodyError = error;
        done = true;
      }
    );
    stop = await controller.drive(() => done || watch.escaped() !== void 0 || watch.rejection() !== void 0, o.maxSteps, afterStep);
  } finally {
    watch.restore();
  }
  const trace = {
    version: TRACE_VERSION,
    seed: s.seed,
    iteration: s.iteration,
    strategy: s.replaying?.strategy ?? s.strategy.name,
    maxSteps: o.maxSteps,
    choices: controller.choices,
    counts: controller.counts,
    times: controller.times,
    labels: controller.labels,
    faults: controller.faults.map((f) => ({
      step: f.step,
      point: f.point,
      where: [f.context.taskId && `task ${f.context.taskId}`, f.context.attempt && `attempt ${f.context.attempt}`, f.context.detail].filter(Boolean).join(", "),
      action: f.action.kind
    }))
  };
  const fail = (cause, what) => ({ trace, failure: new ScheduleFailure(trace, cause, what), bounded: false });
  const escaped = watch.escaped();
  if (escaped !== void 0) return fail(escaped);
  const rejection = watch.rejection();
  if (rejection !== void 0) return fail(rejection, "unhandled rejection");
  if (stop?.kind === "error") return fail(stop.error);
  if (stop?.kind === "maxSteps") {
    if (o.onMaxSteps === "pass") return { trace, failure: void 0, bounded: true };
    return fail(new InvariantViolation(`the test had not finished after maxSteps (${o.maxSteps}) steps: a livelock, or raise maxSteps`), "liveness");
  }
  if (stop?.kind === "stuck") {
    return fail(
      new InvariantViolation(
        `deadlock: the test is waiting, but nothing the runtime controls is pending (no timer, no completion). Something waits for an event that never comes, or for work the runtime does not control (real I/O, a promise from outside the job)`
      ),
      "deadlock"
    );
  }
  if (bodyFailed) return fail(bodyError);
  try {
    for (const run of runs) run.finish();
    for (const e of eventually) if (!e.held && !e.check()) throw new InvariantViolation(`liveness: "${e.name}" never held`);
    if (controller.pending > 0) {
      throw new InvariantViolation(`left behind when the test ended: ${controller.pendingLabels().join(", ")}`);
    }
  } catch (error) {
    return fail(error);
  }
  return { trace, failure: void 0, bounded: false };
}
function resolve(options) {
  if (typeof options !== "object" || options === null) throw new FlotillaError("E_INVALID_OPTION", `explore: options must be an object, received ${describe(options)}`);
  const envSeed = readEnv("FLOTILLA_SEED");
  const envIterations = readEnv("FLOTILLA_ITERATIONS");
  const iterations = envIterations !== void 0 ? Number(envIterations) : options.iterations ?? 100;
  const seed = envSeed !== void 0 ? Number(envSeed) : options.seed ?? 1;
  const strategy = options.strategy ?? "default";
  const maxSteps = options.maxSteps ?? 1e4;
  const pctDepth = options.pctDepth ?? 3;
  const onMaxSteps = options.onMaxSteps ?? "fail";
  const faultsStopAfter = options.faultsStopAfter ?? Infinity;
  const check = (ok, name, expected, value) => {
    if (!ok) throw new FlotillaError("E_INVALID_OPTION", `explore: option "${name}" must be ${expected}, received ${describe(value)}`);
  };
  check(Number.isInteger(iterations) && iterations >= 1, "iterations", "an integer >= 1 (FLOTILLA_ITERATIONS too)", iterations);
  check(Number.isInteger(seed), "seed", "an integer (FLOTILLA_SEED too)", seed);
  check(["random", "pct", "exhaustive", "default"].includes(strategy), "strategy", `"random", "pct", "exhaustive" or "default"`, strategy);
  check(Number.isInteger(maxSteps) && maxSteps >= 1, "maxSteps", "an integer >= 1", maxSteps);
  check(Number.isInteger(pctDepth) && pctDepth >= 1, "pctDepth", "an integer >= 1", pctDepth);
  check(onMaxSteps === "fail" || onMaxSteps === "pass", "onMaxSteps", `"fail" or "pass"`, onMaxSteps);
  check(faultsStopAfter === Infinity || Number.isInteger(faultsStopAfter) && faultsStopAfter >= 0, "faultsStopAfter", "an integer >= 0", faultsStopAfter);
  return { iterations, seed, strategy, maxSteps, onMaxSteps, pctDepth, faults: checkFaultPlan(options.faults), faultsStopAfter };
}
function iterationSeed(seed, i) {
  let z = Math.imul(seed, 2654435761) + Math.imul(i + 1, 2246822507) >>> 0;
  z = Math.imul(z ^ z >>> 16, 569420461);
  z = Math.imul(z ^ z >>> 15, 1935289751);
  return (z ^ z >>> 15) >>> 0;
}
function report(o, steps, faultsFired, bounded, durationMs, hash, exhaustive) {
  const sorted = [...steps].sort((a, b) => a - b);
  return {
    iterations: steps.length,
    seed: o.seed,
    strategy: o.strategy,
    steps: { min: sorted[0] ?? 0, median: sorted[sorted.length >> 1] ?? 0, max: sorted[sorted.length - 1] ?? 0 },
    durationMs,
    faultsFired,
    boundedSchedules: bounded,
    decisionHash: (hash >>> 0).toString(16).padStart(8, "0"),
    ...exhaustive !== void 0 ? { schedules: { explored: exhaustive.explored, complete: exhaustive.complete } } : {}
  };
}

export { InvariantViolation, ScheduleFailure, explore, formatTrace, replay, seededRandom, virtualRuntime };
