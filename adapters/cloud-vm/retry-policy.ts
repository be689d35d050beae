/**
 * Which failed cloud API calls are tried again, and after how long. One room for the rule, so the
 * queue (api-calls.ts) and the start of a VM (vm-start.ts) cannot disagree about it:
 * - throttled (`E_VM_THROTTLED`): the call was refused, nothing happened; try again after the
 *   `retryAfterMs` the API asked for, up to `maxThrottleRetries` times;
 * - a transient API error (`E_VM_API`): try again with exponential backoff and jitter, up to
 *   `maxApiRetries` times (for a create, only after its outcome was reconciled);
 * - anything else, a quota error (`E_VM_QUOTA`) included: not here. The pool above retries a failed
 *   start with its own backoff, and a quota frees up on a cloud's time, not a call's.
 */
import { isFlotillaError } from "../../src/errors.ts";
import type { Runtime } from "../../src/runtime.ts";
import type { ResolvedOptions } from "./options.ts";

/** The options the policy reads. */
export type RetryOptions = Pick<ResolvedOptions<unknown>, "maxThrottleRetries" | "maxApiRetries" | "retryDelayMs" | "maxRetryDelayMs">;

/** Retries spent by one call so far. */
export interface RetryCount {
  throttled: number;
  api: number;
}

/** Whether a call failed with an error that says nothing about what the call did (the answer was lost). */
export function outcomeUnknown(error: unknown): boolean {
  return !(isFlotillaError(error, "E_VM_THROTTLED") || isFlotillaError(error, "E_VM_QUOTA") || isFlotillaError(error, "E_INVALID_OPTION"));
}

/**
 * How long to wait before trying a call again after `error`, counting the retry in `count`; undefined
 * when the call is not retried. `apiErrors`: whether an `E_VM_API` is retried here (not for a create,
 * whose retry waits for reconciliation: see vm-start.ts).
 */
export function retryDelay(error: unknown, count: RetryCount, options: RetryOptions, random: Runtime["random"], apiErrors: boolean): number | undefined {
  if (isFlotillaError(error, "E_VM_THROTTLED")) {
    if (count.throttled >= options.maxThrottleRetries) return undefined;
    count.throttled++;
    const asked = retryAfterOf(error);
    return asked ?? backoff(count.throttled, options, random);
  }
  if (apiErrors && isFlotillaError(error, "E_VM_API")) {
    if (count.api >= options.maxApiRetries) return undefined;
    count.api++;
    return backoff(count.api, options, random);
  }
  return undefined;
}

/** The backoff before retry `n` (from 1): `retryDelayMs * 2^(n-1)` capped at `maxRetryDelayMs`, between half and all of it. */
export function backoff(n: number, options: RetryOptions, random: Runtime["random"]): number {
  const full = Math.min(options.maxRetryDelayMs, options.retryDelayMs * 2 ** (n - 1));
  return Math.round(full * (0.5 + 0.5 * random()));
}

/** The error's `retryAfterMs` when it is a usable delay; a driver's odd value falls back to backoff. */
function retryAfterOf(error: unknown): number | undefined {
  let value: unknown;
  try {
    value = (error as { retryAfterMs?: unknown }).retryAfterMs;
  } catch {
    return undefined;
  }
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}
