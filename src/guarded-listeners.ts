/**
 * User listeners, guarded: each is wrapped so that a throw stops neither the other listeners nor the
 * engine that emitted; the error is reported once by `callbackFailed`. A run's events (run-events.ts)
 * and a pool's (`pool.on`, node-pool.ts) both guard their listeners this way.
 */

export class GuardedListeners {
  /** The guarded wrapper of each listener, so removing the listener finds it. */
  readonly #guarded = new WeakMap<Function, (event: never) => void>();

  /** The wrapper of `listener` (the same one each time it is added). */
  wrap(listener: (event: never) => void): (event: never) => void {
    let guarded = this.#guarded.get(listener);
    if (guarded === undefined) {
      guarded = (e: never) => {
        try {
          listener(e);
        } catch (error) {
          callbackFailed(error);
        }
      };
      this.#guarded.set(listener, guarded);
    }
    return guarded;
  }

  /** The wrapper made for `listener`, if it was ever added. */
  wrapped(listener: (event: never) => void): ((event: never) => void) | undefined {
    return this.#guarded.get(listener);
  }
}

/**
 * User code the engine called (an event listener, an `onAbort` listener) threw. The engine goes on;
 * the error surfaces once, as an unhandled promise rejection: Node (by default) and Deno end the
 * process with it, a test runner fails the test that caused it (Deno's swallows an error thrown on a
 * bare microtask), and explore() fails the schedule.
 */
export function callbackFailed(error: unknown): void {
  void Promise.reject(error);
}
