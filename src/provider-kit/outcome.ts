/** `Outcome`: the promise of one attempt, which settles once and lets go of what it held. */

/**
 * A promise with its `resolve` and `reject` in hand, for an attempt whose end is heard from events
 * (a thread's reply, a process's exit, a remote job's status). The first `resolve` or `reject` wins;
 * later calls are ignored and return false, so every event that may end the attempt can simply try.
 * `onSettle` registers what to let go of (a listener, a timer) when it settles.
 *
 * @example
 * const outcome = new Outcome<string>();
 * child.once("exit", (code) => (code === 0 ? outcome.resolve(stdout) : outcome.reject(new Error(`exit ${code}`))));
 * child.once("error", (error) => outcome.reject(error)); // ignored if "exit" came first
 * outcome.onSettle(() => grace.release());
 * return outcome.promise;
 */
export class Outcome<T = unknown> {
  /** Settles with the first `resolve` or `reject`. */
  readonly promise: Promise<T>;
  #resolve!: (value: T | PromiseLike<T>) => void;
  #reject!: (error: unknown) => void;
  #settled = false;
  #releases: (() => void)[] | undefined = undefined;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Whether `resolve` or `reject` was called. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Fulfils the promise, unless it has settled already. Returns whether this call settled it. */
  resolve(value: T | PromiseLike<T>): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#resolve(value);
    this.#release();
    return true;
  }

  /** Rejects the promise, unless it has settled already. Returns whether this call settled it. */
  reject(error: unknown): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#reject(error);
    this.#release();
    return true;
  }

  /**
   * Calls `release` once when the outcome settles (at once if it has), then forgets it. Releases run
   * in the order given, after the promise has settled; one that throws does not keep the others from
   * running, and the first error is thrown again from the `resolve` or `reject` that settled it.
   */
  onSettle(release: () => void): void {
    if (this.#settled) release();
    else (this.#releases ??= []).push(release);
  }

  #release(): void {
    const releases = this.#releases;
    if (releases === undefined) return;
    this.#releases = undefined;
    let failed = false;
    let first: unknown;
    for (const release of releases) {
      try {
        release();
      } catch (error) {
        if (!failed) [failed, first] = [true, error];
      }
    }
    if (failed) throw first;
  }
}
