/**
 * An attempt's log lines, sent back in batches as the job's progress (`{ log: [[stream, line], ...] }`):
 * one Redis write per ~25 ms instead of one per line. Batches go out one after the other, so the
 * coordinator sees lines in the order they were logged; `close()` sends what is left, and the
 * processor awaits it before returning, so every line arrives before the result.
 */
import type { ProgressData } from "../wire.ts";

const BATCH_MS = 25;

type Line = readonly ["log" | "stdout" | "stderr", string];

export class LogBatcher {
  readonly #send: (data: ProgressData) => Promise<unknown>;
  readonly #onError: (error: unknown) => void;
  #lines: Line[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(send: (data: ProgressData) => Promise<unknown>, onError: (error: unknown) => void) {
    this.#send = send;
    this.#onError = onError;
  }

  add(line: string, stream: "log" | "stdout" | "stderr" = "log"): void {
    if (this.#closed) return; // a body that logs after its attempt ended: nobody reads it any more
    this.#lines.push([stream, String(line)]);
    this.#timer ??= setTimeout(() => this.#flush(), BATCH_MS);
  }

  /** Sends what is left and resolves once every batch was written (or failed: reported, not thrown). */
  close(): Promise<void> {
    this.#closed = true;
    this.#flush();
    return this.#chain;
  }

  #flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#lines.length === 0) return;
    const log = this.#lines;
    this.#lines = [];
    this.#chain = this.#chain.then(() =>
      this.#send({ log }).then(
        () => {},
        (error: unknown) => this.#onError(error),
      ),
    );
  }
}
