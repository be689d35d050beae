/**
 * The options of `simulatedCloud()`: what each means, its default and bounds, and their checking. Every
 * option is checked once, up front, with a message that names the option, what was expected and what
 * was received; the result is a complete configuration with every default filled in.
 */
import type { NodePriority } from "../provider-node.ts";
import { missingRuntimeMembers, type Runtime } from "../runtime.ts";
import { checkKnownKeys, checkOptionsObject, invalidOption } from "../validation.ts";

/** A latency in milliseconds: fixed, or drawn per event, uniformly, from the integers `min..max`. */
export type LatencyMs = number | { readonly min: number; readonly max: number };

/** One number per VM priority. */
export interface PerPriority<T = number> {
  readonly dedicated: T;
  readonly lowPriority: T;
}

/**
 * How a simulated cloud behaves. Every delay is a timer of `runtime` and every random draw comes from
 * `seed` (or `runtime.random()`), so the same seed and the same calls give the same cloud.
 *
 * @example
 * const cloud = simulatedCloud({
 *   runtime: t.runtime,                       // under explore(); a virtualRuntime() in a plain test
 *   quota: { lowPriority: 10 },
 *   preemptionsPerHour: 0.5,
 *   costPerNodeHour: { dedicated: 0.4, lowPriority: 0.08 },
 * });
 */
export interface SimulatedCloudOptions {
  /**
   * The clock, timers and randomness of the cloud: pass the run's runtime (`t.runtime` under explore(),
   * the `virtualRuntime()` a test runs with). Required: a cloud on another clock than the pool that uses it
   * would have its VMs boot on a clock nobody moves. (The runtime a create request carries is not used.)
   */
  readonly runtime: Runtime;
  /** Names the cloud in messages, timer labels and fault details (`cloud <name> start vm-3`). @default "simulated-cloud" */
  readonly name?: string;
  /**
   * Seed of the cloud's own random source (an integer): the cloud then draws the same way whatever the
   * program around it draws. @default none: the cloud draws from `runtime.random()` (under explore(),
   * from the schedule's seed)
   */
  readonly seed?: number;
  /** How long an API call (create, delete, list) takes to reach the cloud and be answered. Integers >= 0. @default { min: 20, max: 200 } */
  readonly apiLatencyMs?: LatencyMs;
  /** From an accepted create until the VM runs (or its start fails), drawn per VM. Integers >= 0. @default { min: 20_000, max: 60_000 } */
  readonly startLatencyMs?: LatencyMs;
  /**
   * From an accepted delete until the VM is gone (it is billed until then), drawn per VM. Integers >= 0. The
   * default stays, with the API latency, under a run's default `stopTimeoutMs` (10 s), so a run's end waits for its deletes.
   * @default { min: 2_000, max: 8_000 }
   */
  readonly deleteLatencyMs?: LatencyMs;
  /** Chance that a VM's start fails once its start latency has passed: it never runs, is cleaned up, and its create rejects (E_VM_API). 0..1. @default 0 */
  readonly startFailureRate?: number;
  /** Chance that a VM's start never finishes: its create stays pending until its signal aborts or the VM is deleted. 0..1. @default 0 */
  readonly hangRate?: number;
  /**
   * Chance that an API call fails with a transient `vmApiError` (E_VM_API). Half of those happen after the
   * cloud acted and only the answer was lost: a create then leaves a VM behind that `list()` shows, a
   * delete goes ahead. The caller cannot tell which from the error. 0..1. @default 0
   */
  readonly apiErrorRate?: number;
  /** Chance that an API call is throttled (`vmThrottled`, E_VM_THROTTLED); every call in the next `throttleRetryAfterMs` is refused too. 0..1. @default 0 */
  readonly throttleRate?: number;
  /** The `retryAfterMs` a throttled call is answered with (the window in which every call is refused). Integer >= 0. @default 1_000 */
  readonly throttleRetryAfterMs?: number;
  /**
   * Preemptions per hour of each running low-priority VM: each gets an exponentially distributed time to
   * preemption (mean `1 / preemptionsPerHour` hours), armed as a timer when it starts running. >= 0. @default 0
   */
  readonly preemptionsPerHour?: number;
  /** VMs of each priority the cloud holds at once (creating, running or deleting); a create beyond is refused (E_VM_QUOTA). Integers >= 0 or Infinity. @default Infinity each */
  readonly quota?: Partial<PerPriority>;
  /** Price of one VM for one hour, per priority, in any currency unit; a VM is billed from its accepted create until it is gone. >= 0. @default { dedicated: 1, lowPriority: 0.2 } */
  readonly costPerNodeHour?: Partial<PerPriority>;
  /** Slots each VM reports in its `VmInfo` (attempts it runs at once). Integer >= 1. @default 1 */
  readonly slotsPerVm?: number;
}

/** A latency range with both ends. */
export interface Range {
  readonly min: number;
  readonly max: number;
}

/** The options with every default filled in. */
export interface CloudConfig {
  readonly runtime: Runtime;
  readonly name: string;
  readonly seed: number | undefined;
  readonly apiLatencyMs: Range;
  readonly startLatencyMs: Range;
  readonly deleteLatencyMs: Range;
  readonly startFailureRate: number;
  readonly hangRate: number;
  readonly apiErrorRate: number;
  readonly throttleRate: number;
  readonly throttleRetryAfterMs: number;
  readonly preemptionsPerHour: number;
  readonly quota: PerPriority;
  readonly costPerNodeHour: PerPriority;
  readonly slotsPerVm: number;
}

export const CLOUD_DEFAULTS = Object.freeze({
  name: "simulated-cloud",
  apiLatencyMs: Object.freeze({ min: 20, max: 200 }),
  startLatencyMs: Object.freeze({ min: 20_000, max: 60_000 }),
  deleteLatencyMs: Object.freeze({ min: 2_000, max: 8_000 }),
  startFailureRate: 0,
  hangRate: 0,
  apiErrorRate: 0,
  throttleRate: 0,
  throttleRetryAfterMs: 1_000,
  preemptionsPerHour: 0,
  quota: Object.freeze({ dedicated: Infinity, lowPriority: Infinity }),
  costPerNodeHour: Object.freeze({ dedicated: 1, lowPriority: 0.2 }),
  slotsPerVm: 1,
});

const WHERE = "simulatedCloud";
const OPTION_NAMES = [
  "runtime",
  "name",
  "seed",
  "apiLatencyMs",
  "startLatencyMs",
  "deleteLatencyMs",
  "startFailureRate",
  "hangRate",
  "apiErrorRate",
  "throttleRate",
  "throttleRetryAfterMs",
  "preemptionsPerHour",
  "quota",
  "costPerNodeHour",
  "slotsPerVm",
];
const PRIORITIES: readonly NodePriority[] = ["dedicated", "lowPriority"];

/** Checks `options` and fills in the defaults (E_INVALID_OPTION naming the option otherwise). */
export function resolveCloudOptions(options: unknown): CloudConfig {
  checkOptionsObject(WHERE, options, OPTION_NAMES);
  const o = options as SimulatedCloudOptions;
  const runtime: unknown = o.runtime;
  if (typeof runtime !== "object" || runtime === null || missingRuntimeMembers(runtime).length > 0) {
    throw invalidOption(WHERE, "runtime", "a Runtime with now, setTimer, clearTimer and random (t.runtime under explore(), or a virtualRuntime())", runtime);
  }
  const name = o.name ?? CLOUD_DEFAULTS.name;
  if (typeof name !== "string" || name.length === 0) throw invalidOption(WHERE, "name", "a non-empty string", name);
  if (o.seed !== undefined && !Number.isInteger(o.seed)) throw invalidOption(WHERE, "seed", "an integer", o.seed);
  return {
    runtime: runtime as Runtime,
    name,
    seed: o.seed,
    apiLatencyMs: latency("apiLatencyMs", o.apiLatencyMs, CLOUD_DEFAULTS.apiLatencyMs),
    startLatencyMs: latency("startLatencyMs", o.startLatencyMs, CLOUD_DEFAULTS.startLatencyMs),
    deleteLatencyMs: latency("deleteLatencyMs", o.deleteLatencyMs, CLOUD_DEFAULTS.deleteLatencyMs),
    startFailureRate: rate("startFailureRate", o.startFailureRate, CLOUD_DEFAULTS.startFailureRate),
    hangRate: rate("hangRate", o.hangRate, CLOUD_DEFAULTS.hangRate),
    apiErrorRate: rate("apiErrorRate", o.apiErrorRate, CLOUD_DEFAULTS.apiErrorRate),
    throttleRate: rate("throttleRate", o.throttleRate, CLOUD_DEFAULTS.throttleRate),
    throttleRetryAfterMs: integerMs("throttleRetryAfterMs", o.throttleRetryAfterMs ?? CLOUD_DEFAULTS.throttleRetryAfterMs),
    preemptionsPerHour: nonNegative("preemptionsPerHour", o.preemptionsPerHour ?? CLOUD_DEFAULTS.preemptionsPerHour, "a finite number >= 0"),
    quota: perPriority("quota", o.quota, CLOUD_DEFAULTS.quota, (v) => v === Infinity || (Number.isInteger(v) && v >= 0), "an integer >= 0 or Infinity"),
    costPerNodeHour: perPriority(
      "costPerNodeHour",
      o.costPerNodeHour,
      CLOUD_DEFAULTS.costPerNodeHour,
      (v) => Number.isFinite(v) && v >= 0,
      "a finite number >= 0",
    ),
    slotsPerVm: slots(o.slotsPerVm ?? CLOUD_DEFAULTS.slotsPerVm),
  };
}

function latency(option: string, value: unknown, fallback: Range): Range {
  if (value === undefined) return fallback;
  const expected = "an integer number of milliseconds >= 0, or { min, max } with integers 0 <= min <= max";
  if (typeof value === "number") {
    if (!(Number.isInteger(value) && value >= 0)) throw invalidOption(WHERE, option, expected, value);
    return { min: value, max: value };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalidOption(WHERE, option, expected, value);
  checkKnownKeys(`${WHERE}: option "${option}"`, value, ["min", "max"], "field");
  const { min, max } = value as Range;
  if (!(Number.isInteger(min) && min >= 0)) throw invalidOption(WHERE, `${option}.min`, "an integer number of milliseconds >= 0", min);
  if (!(Number.isInteger(max) && max >= min)) throw invalidOption(WHERE, `${option}.max`, `an integer number of milliseconds >= min (${min})`, max);
  return { min, max };
}

function rate(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(typeof value === "number" && value >= 0 && value <= 1)) throw invalidOption(WHERE, option, "a number from 0 to 1", value);
  return value;
}

function integerMs(option: string, value: unknown): number {
  if (!(Number.isInteger(value) && (value as number) >= 0)) throw invalidOption(WHERE, option, "an integer number of milliseconds >= 0", value);
  return value as number;
}

function nonNegative(option: string, value: unknown, expected: string): number {
  if (!(typeof value === "number" && Number.isFinite(value) && value >= 0)) throw invalidOption(WHERE, option, expected, value);
  return value;
}

function slots(value: unknown): number {
  if (!(Number.isInteger(value) && (value as number) >= 1)) throw invalidOption(WHERE, "slotsPerVm", "an integer >= 1", value);
  return value as number;
}

function perPriority(option: string, value: unknown, fallback: PerPriority, valid: (v: number) => boolean, expected: string): PerPriority {
  if (value === undefined) return fallback;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidOption(WHERE, option, "an object { dedicated?, lowPriority? }", value);
  }
  checkKnownKeys(`${WHERE}: option "${option}"`, value, PRIORITIES, "field");
  const given = value as Partial<PerPriority>;
  const resolved: Record<NodePriority, number> = { ...fallback };
  for (const priority of PRIORITIES) {
    const v: unknown = given[priority];
    if (v === undefined) continue;
    if (!(typeof v === "number" && valid(v))) throw invalidOption(WHERE, `${option}.${priority}`, expected, v);
    resolved[priority] = v;
  }
  return resolved;
}
