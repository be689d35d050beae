/**
 * Closing what talks to Redis while Redis may be gone: a close (or a last write) waits for Redis at
 * most CLOSE_MS, so an agent or a coordinator still stops, and the process can still exit.
 */

/** How long a close, or a write made while closing, waits for Redis. */
export const CLOSE_MS = 2_000;

/** `promise`, or a rejection after CLOSE_MS (real timers: closing happens on this machine's clock). */
export function boundedClose<T>(promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${CLOSE_MS} ms`)), CLOSE_MS);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
