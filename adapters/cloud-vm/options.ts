/** Options of `cloudVm()`, with defaults and bounds, their single check, and the guard of a user's driver. */
import { FlotillaError, describe } from "../../src/errors.ts";
import type { VmDriver } from "../../src/provider-kit/index.ts";
import type { TaskBody } from "../../src/task-context.ts";
import { MAX_TIMER_MS, checkDelayMs, checkKnownKeys, checkOptionsObject, invalidOption } from "../../src/validation.ts";

/**
 * Opt-in spacing of cloud API calls with p-queue's `interval` and `intervalCap`: at most
 * `callsPerInterval` calls start in any `intervalMs` window.
 *
 * It runs on real timers (p-queue's own), not on the pool's runtime: a provider with a rate limit
 * cannot be used under `explore()` of flotilla/testing (a real timer fails the schedule), and its
 * waits take real time under `virtualRuntime()`. Throttling answers (`vmThrottled`) are retried on the
 * runtime's timers either way.
 *
 * @example { intervalMs: 1_000, callsPerInterval: 10 } // at most 10 calls a second
 */
export interface CloudVmRateLimit {
  /** The window, in milliseconds. Bounds: integer from 1 to 2^31-1. */
  readonly intervalMs: number;
  /** Calls that may start in one window. Bounds: integer >= 1. */
  readonly callsPerInterval: number;
}

/**
 * Options of `cloudVm()`.
 *
 * @example
 * cloudVm({ driver: myCloud, maxNodes: 20, slotsPerVm: 4, maxConcurrentCalls: 2, namePrefix: "etl-nightly" })
 */
export interface CloudVmOptions<Body = TaskBody<any, unknown>> {
  /** The cloud's VM API (see `VmDriver` in flotilla/provider-kit, or `localVms()`). Required. */
  readonly driver: VmDriver<Body>;
  /** Most VMs a pool keeps of this provider at once (`ComputeProvider.maxNodes`). @default 1. Bounds: integer >= 1. */
  readonly maxNodes?: number;
  /** Slots of a VM whose driver does not say (`VmInfo.slots` wins). @default 1. Bounds: integer >= 1, or Infinity. */
  readonly slotsPerVm?: number;
  /**
   * VM names are `${namePrefix}-${n}`, one per create request, so a create whose answer was lost can be
   * found with `list()` and deleted. Give every program that shares a cloud account a prefix of its own:
   * a VM with another provider's name could be deleted by its reconciliation.
   * @default `flotilla-${process.pid}-${k}` (k counts the providers made in this process). Bounds: 1 to 40 of [A-Za-z0-9_.-], starting with a letter or digit.
   */
  readonly namePrefix?: string;
  /** Cloud API calls (create, delete, list) in flight at once; the others wait in a queue. @default 4. Bounds: integer >= 1, or Infinity. */
  readonly maxConcurrentCalls?: number;
  /** Opt-in call spacing on real timers (see `CloudVmRateLimit`: not under `explore()`). @default none */
  readonly rateLimit?: CloudVmRateLimit;
  /**
   * How many times one call is retried after the API throttled it (`E_VM_THROTTLED`), each time after
   * the `retryAfterMs` it asked for. @default 8. Bounds: integer >= 0.
   */
  readonly maxThrottleRetries?: number;
  /**
   * How many times one call is retried after a transient API error (`E_VM_API`), with exponential
   * backoff. A create whose outcome is unknown is reconciled (its VM found by name and deleted) before
   * it is tried again. A quota error (`E_VM_QUOTA`) is never retried here: the pool retries its start.
   * @default 4. Bounds: integer >= 0.
   */
  readonly maxApiRetries?: number;
  /**
   * The first backoff after a transient API error, doubled at each retry up to `maxRetryDelayMs`, each
   * delay drawn between half of it and all of it (with the runtime's random numbers). Also the wait
   * after a throttled call that named no `retryAfterMs`. @default 200. Bounds: 0 to 2^31-1 ms.
   */
  readonly retryDelayMs?: number;
  /** Longest backoff between two tries of a call. @default 10_000. Bounds: 0 to 2^31-1 ms. */
  readonly maxRetryDelayMs?: number;
}

/** The options checked, with their defaults. */
export interface ResolvedOptions<Body> {
  readonly driver: VmDriver<Body>;
  readonly maxNodes: number;
  readonly slotsPerVm: number;
  readonly namePrefix: string;
  readonly maxConcurrentCalls: number;
  readonly rateLimit: CloudVmRateLimit | undefined;
  readonly maxThrottleRetries: number;
  readonly maxApiRetries: number;
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
}

const WHERE = "cloudVm()";
const OPTION_NAMES = [
  "driver",
  "maxNodes",
  "slotsPerVm",
  "namePrefix",
  "maxConcurrentCalls",
  "rateLimit",
  "maxThrottleRetries",
  "maxApiRetries",
  "retryDelayMs",
  "maxRetryDelayMs",
];
const RATE_LIMIT_NAMES = ["intervalMs", "callsPerInterval"];
const DRIVER_METHODS = ["create", "delete", "list", "run"] as const;
const NAME_PREFIX = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;
let providers = 0;

/** Checks every option once, up front; throws E_INVALID_OPTION naming the option, what was expected and what came. */
export function resolveOptions<Body>(options: CloudVmOptions<Body> | undefined): ResolvedOptions<Body> {
  if (options === undefined)
    throw new FlotillaError("E_INVALID_OPTION", `${WHERE}: options must be an object with a "driver" (a VmDriver), received undefined`);
  checkOptionsObject(WHERE, options, OPTION_NAMES);
  const o = options;
  checkVmDriver(`${WHERE}: option "driver"`, o.driver);
  const maxNodes = o.maxNodes ?? 1;
  if (!(Number.isInteger(maxNodes) && maxNodes >= 1)) throw invalidOption(WHERE, "maxNodes", "an integer >= 1", maxNodes);
  const slotsPerVm = o.slotsPerVm ?? 1;
  if (!isSlots(slotsPerVm)) throw invalidOption(WHERE, "slotsPerVm", "an integer >= 1 or Infinity", slotsPerVm);
  const namePrefix = o.namePrefix ?? `flotilla-${process.pid}-${++providers}`;
  if (!(typeof namePrefix === "string" && NAME_PREFIX.test(namePrefix))) {
    throw invalidOption(WHERE, "namePrefix", "1 to 40 letters, digits, '_', '.' or '-', starting with a letter or digit", namePrefix);
  }
  const maxConcurrentCalls = o.maxConcurrentCalls ?? 4;
  if (!(maxConcurrentCalls === Infinity || (Number.isInteger(maxConcurrentCalls) && maxConcurrentCalls >= 1))) {
    throw invalidOption(WHERE, "maxConcurrentCalls", "an integer >= 1 or Infinity", maxConcurrentCalls);
  }
  const rateLimit = o.rateLimit;
  if (rateLimit !== undefined) {
    if (typeof rateLimit !== "object" || rateLimit === null || Array.isArray(rateLimit)) {
      throw invalidOption(WHERE, "rateLimit", "an object { intervalMs, callsPerInterval }", rateLimit);
    }
    checkKnownKeys(`${WHERE}: option "rateLimit"`, rateLimit, RATE_LIMIT_NAMES);
    const { intervalMs, callsPerInterval } = rateLimit;
    if (!(Number.isInteger(intervalMs) && intervalMs >= 1 && intervalMs <= MAX_TIMER_MS)) {
      throw invalidOption(WHERE, "rateLimit.intervalMs", `an integer number of milliseconds from 1 to ${MAX_TIMER_MS}`, intervalMs);
    }
    if (!(Number.isInteger(callsPerInterval) && callsPerInterval >= 1)) {
      throw invalidOption(WHERE, "rateLimit.callsPerInterval", "an integer >= 1", callsPerInterval);
    }
  }
  const maxThrottleRetries = o.maxThrottleRetries ?? 8;
  if (!(Number.isInteger(maxThrottleRetries) && maxThrottleRetries >= 0))
    throw invalidOption(WHERE, "maxThrottleRetries", "an integer >= 0", maxThrottleRetries);
  const maxApiRetries = o.maxApiRetries ?? 4;
  if (!(Number.isInteger(maxApiRetries) && maxApiRetries >= 0)) throw invalidOption(WHERE, "maxApiRetries", "an integer >= 0", maxApiRetries);
  const retryDelayMs = o.retryDelayMs ?? 200;
  checkDelayMs(WHERE, "retryDelayMs", retryDelayMs);
  const maxRetryDelayMs = o.maxRetryDelayMs ?? 10_000;
  checkDelayMs(WHERE, "maxRetryDelayMs", maxRetryDelayMs);
  return {
    driver: o.driver,
    maxNodes,
    slotsPerVm,
    namePrefix,
    maxConcurrentCalls,
    rateLimit: rateLimit === undefined ? undefined : { intervalMs: rateLimit.intervalMs, callsPerInterval: rateLimit.callsPerInterval },
    maxThrottleRetries,
    maxApiRetries,
    retryDelayMs,
    maxRetryDelayMs,
  };
}

/** Slots of a node: an integer >= 1, or Infinity. */
export function isSlots(value: unknown): value is number {
  return value === Infinity || (Number.isInteger(value) && (value as number) >= 1);
}

/** Throws E_INVALID_OPTION naming what a user's driver object lacks or has wrong. */
export function checkVmDriver(where: string, value: unknown): asserts value is VmDriver<any> {
  if (typeof value !== "object" || value === null) {
    throw new FlotillaError("E_INVALID_OPTION", `${where} must be a VmDriver object { name, create, delete, list, run }, received ${describe(value)}`);
  }
  const d = value as Record<string, unknown>;
  const missing: string[] = DRIVER_METHODS.filter((m) => typeof d[m] !== "function");
  if (typeof d.name !== "string" || d.name.length === 0) missing.push("name (a non-empty string)");
  if (missing.length > 0) throw new FlotillaError("E_INVALID_OPTION", `${where} is not a VmDriver: missing ${missing.join(", ")}`);
  const kinds = d.kinds;
  if (kinds !== undefined && !(Array.isArray(kinds) && kinds.length > 0 && kinds.every((k) => typeof k === "string" && k.length > 0))) {
    throw new FlotillaError("E_INVALID_OPTION", `${where} (driver "${d.name}"): "kinds" must be a non-empty array of body kinds, received ${describe(kinds)}`);
  }
}
