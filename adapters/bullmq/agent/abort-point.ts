/**
 * An attempt's abort on the agent, without an AbortController unless something asks for `signal`:
 * building one per attempt was ~6% of an agent's CPU (the local providers hear the abort through
 * `ctx.onAbort`, and only a command's provider reads `ctx.signal`).
 */
export class AbortPoint {
  #reason: unknown = undefined;
  #aborted = false;
  #listeners: ((reason: unknown) => void)[] = [];
  #controller: AbortController | undefined = undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** A standard AbortSignal for this abort (built on first use). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Aborts once: every listener hears `reason` (one that throws does not stop the others: reported to `onError`). */
  abort(reason: unknown, onError: (error: unknown) => void = () => {}): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    // One at a time off the list, so a listener removed by another during the abort is not called.
    for (let listener = this.#listeners.shift(); listener !== undefined; listener = this.#listeners.shift()) {
      try {
        listener(reason);
      } catch (error) {
        onError(error);
      }
    }
  }

  /** Calls `listener` with the reason when aborted (at once if it is); returns a function that removes it. */
  onAbort(listener: (reason: unknown) => void): () => void {
    if (this.#aborted) {
      listener(this.#reason);
      return () => {};
    }
    const entry = (reason: unknown): void => listener(reason);
    this.#listeners.push(entry);
    return () => {
      const at = this.#listeners.indexOf(entry);
      if (at >= 0) this.#listeners.splice(at, 1);
    };
  }
}
