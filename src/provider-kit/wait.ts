/** A wait on a provider's runtime (virtual under test) that ends early, rejecting, when `signal` aborts. */
import type { Runtime } from "../runtime.ts";

/**
 * Resolves after `ms` on `runtime`'s clock; rejects with the signal's reason when it aborts first (at
 * once if it already has). The timer and the listener are released either way.
 */
export function wait(runtime: Runtime, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      runtime.clearTimer(timer);
      reject(signal!.reason);
    };
    const timer = runtime.setTimer(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
