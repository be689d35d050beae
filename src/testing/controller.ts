/**
 * The controlled runtime of one schedule. Time is virtual; timers and deferred completions do not
 * run when they are due but become "ready", and a strategy picks which ready event runs next. The
 * controller runs one event, lets its consequences settle (one real macrotask: every promise
 * callback it queued has then run), and picks again; it advances the clock only when nothing is
 * ready. Every choice is recorded compactly; the readable trace is built only when asked for.
 * Time and timers are the kit's one VirtualClock (virtual-clock.ts), which virtualRuntime uses too.
 */
import type { FaultAction, FaultContext, FaultPoint, RunObservation, Runtime } from "../runtime.ts";
import { FlotillaError } from "../errors.ts";
import { holdMacrotasks, macrotask, releaseMacrotasks } from "./macrotask.ts";
import type { Strategy } from "./strategies.ts";
import { DUE, VirtualClock, type ClockEntry } from "./virtual-clock.ts";
import { KIT_ERROR_CODES } from "./vocabulary.ts";

/** One recorded fault. */
interface FiredFault {
  readonly step: number;
  readonly point: FaultPoint;
  readonly context: FaultContext;
  readonly action: FaultAction;
}

/** Why the controller stopped before the test body finished. */
export type StopReason = { kind: "stuck" } | { kind: "maxSteps" } | { kind: "error"; error: unknown };

export class Controller {
  readonly runtime: Runtime;
  /** Choices made, ready counts seen, virtual times and labels chosen, by step. */
  readonly choices: number[] = [];
  readonly counts: number[] = [];
  readonly times: number[] = [];
  readonly labels: string[] = [];
  readonly faults: FiredFault[] = [];
  step = 0;

  readonly #clock = new VirtualClock();
  /** Timers due now and deferred completions, in the order they became ready: the strategy picks among them. */
  readonly #ready: ClockEntry[] = [];
  readonly #strategy: Strategy;
  readonly #random: () => number;
  readonly #replay: { readonly choices: readonly number[]; readonly counts: readonly number[]; readonly labels: readonly string[] } | undefined;

  constructor(options: {
    strategy: Strategy;
    random: () => number;
    fault: ((point: FaultPoint, context: FaultContext, step: number) => FaultAction | undefined) | undefined;
    /** Told about each run that starts on this runtime, before it emits anything. */
    observe?: (run: RunObservation) => void;
    /** A recorded schedule to follow instead of asking the strategy; any difference is a divergence. */
    replay?: { readonly choices: readonly number[]; readonly counts: readonly number[]; readonly labels: readonly string[] };
  }) {
    this.#strategy = options.strategy;
    this.#random = options.random;
    this.#replay = options.replay;
    const decide = options.fault;
    const clock = this.#clock;
    const now = (): number => clock.now();
    // An unlabelled timer is an actor of its own (for pct), named by its sequence number.
    const setTimer = (ms: number, callback: () => void, label?: string) => clock.setTimer(ms, callback, label);
    const clearTimer = (handle: unknown): void => {
      if (clock.clearTimer(handle) === DUE) this.#ready.splice(this.#ready.indexOf(handle as ClockEntry), 1);
    };
    const random = this.#random;
    const defer = (label: string, deliver: () => void): void => void this.#ready.push(clock.dueNow(label, deliver));
    const observe = (run: RunObservation): void => options.observe?.(run);
    // Built as one literal either way, never `runtime.fault = …` afterwards: a closure added to an
    // object after it was made kept each schedule's runtime (and through it the whole schedule)
    // alive through young-generation collections, measured: with a fault plan, scavenges promoted
    // about 1 MB each instead of 30 KB and paused 5-9 ms instead of 1-2.
    this.runtime =
      decide === undefined
        ? { now, setTimer, clearTimer, random, defer, observe }
        : {
            now,
            setTimer,
            clearTimer,
            random,
            defer,
            observe,
            fault: (point, context) => {
              const action = decide(point, context, this.step);
              if (action !== undefined) this.faults.push({ step: this.step, point, context, action });
              return action;
            },
          };
  }

  /**
   * Labels of the timers set and neither fired nor cleared. (Completions not yet delivered do not
   * count: one that matters keeps its run from settling, which is reported as such; the rest belong
   * to attempts the run abandoned.)
   */
  pendingTimerLabels(): string[] {
    return [...this.#ready.filter((e) => e.timer).map((e) => e.label), ...this.#clock.pendingLabels()];
  }

  /**
   * Runs ready events one at a time until `done()` holds. Returns undefined when it does, or why it
   * stopped: nothing is pending while the test waits (stuck), the step bound, or an event threw.
   */
  async drive(done: () => boolean, maxSteps: number, afterStep: () => void): Promise<StopReason | undefined> {
    // It yields once per step, back to back: the port stays ref'd for the whole schedule.
    holdMacrotasks();
    try {
      for (;;) {
        await macrotask();
        if (done()) return undefined;
        // Time moves only when nothing is ready: to the earliest timer, all of whose timers become ready.
        if (this.#ready.length === 0 && !this.#clock.takeDue(this.#ready)) return { kind: "stuck" };
        if (this.step >= maxSteps) return { kind: "maxSteps" };
        const count = this.#ready.length;
        let k: number;
        try {
          // An event's actor (for pct) is its whole label: `complete load#1`, `timeout load#1` and
          // `sleep load#1` are independent sources of events even though they concern one attempt.
          k = this.#replay !== undefined ? this.#replayed(count) : this.#strategy.pick(count, this.step, this.#ready);
        } catch (error) {
          return { kind: "error", error };
        }
        const ready = this.#ready;
        const event = ready[k]!;
        // Out of the list, the others keeping their order (splice would allocate an array per step).
        for (let j = k + 1; j < count; j++) ready[j - 1] = ready[j]!;
        ready.pop();
        this.#clock.done(event);
        this.choices.push(k);
        this.counts.push(count);
        this.times.push(this.#clock.now());
        this.labels.push(event.label);
        this.step++;
        try {
          event.run();
          afterStep();
        } catch (error) {
          return { kind: "error", error };
        }
      }
    } finally {
      releaseMacrotasks();
    }
  }

  /** The recorded choice for this step, after checking that the same events are ready as when it was recorded. */
  #replayed(count: number): number {
    const r = this.#replay!;
    const step = this.step;
    if (step >= r.choices.length) {
      throw new FlotillaError(
        KIT_ERROR_CODES.E_SCHEDULE_DIVERGED,
        `replay diverged after step ${step}: the trace ended there, but the test goes on (${count} events ready)`,
      );
    }
    const k = r.choices[step]!;
    if (count !== r.counts[step] || this.#ready[k]?.label !== r.labels[step]) {
      throw new FlotillaError(
        KIT_ERROR_CODES.E_SCHEDULE_DIVERGED,
        `replay diverged at step ${step + 1}: the trace had ${r.counts[step]} ready events and ran "${r.labels[step]}"; now ${count} are ready and ` +
          `choice ${k + 1} is "${this.#ready[k]?.label ?? "(none)"}". A trace replays only on the same code, job and options.`,
      );
    }
    return k;
  }
}
