/**
 * Job ids the coordinator cancelled recently, with when the cancel arrived. A cancel may overtake its
 * job (the Relay message is read before BullMQ hands the job over): the processor looks here first,
 * and a job cancelled already never starts. Bounded in count and age, so a long-lived agent does not grow.
 */

const MAX_ENTRIES = 10_000;
const MAX_AGE_MS = 10 * 60_000;

export class RecentCancels {
  /** Job id -> performance.now() when the cancel arrived; in arrival order (a Map keeps insertion order). */
  readonly #at = new Map<string, number>();

  add(jobId: string, at: number): void {
    this.#at.delete(jobId);
    this.#at.set(jobId, at);
    for (const [id, when] of this.#at) {
      if (this.#at.size <= MAX_ENTRIES && at - when <= MAX_AGE_MS) break;
      this.#at.delete(id);
    }
  }

  /** When `jobId`'s cancel arrived, if it did recently. */
  get(jobId: string): number | undefined {
    const at = this.#at.get(jobId);
    return at !== undefined && performance.now() - at <= MAX_AGE_MS ? at : undefined;
  }
}

/** Most bytes of outcomes kept (their outputs' JSON): the oldest go first past it. */
const MAX_OUTCOME_BYTES = 64 * 1024 * 1024;

/** Outcomes of attempts that ended on this agent, by idempotency key; bounded in count, age and bytes. */
export class RecentOutcomes<T = unknown> {
  readonly #kept = new Map<string, { readonly at: number; readonly outcome: T; readonly bytes: number }>();
  #bytes = 0;

  /** Keeps `outcome` (of about `bytes` bytes) for `key`. */
  add(key: string, outcome: T, bytes = 0): void {
    const at = performance.now();
    this.#drop(key);
    this.#kept.set(key, { at, outcome, bytes });
    this.#bytes += bytes;
    for (const [k, kept] of this.#kept) {
      if (this.#kept.size <= MAX_ENTRIES && at - kept.at <= MAX_AGE_MS && this.#bytes <= MAX_OUTCOME_BYTES) break;
      this.#drop(k);
    }
  }

  get(key: string): T | undefined {
    const kept = this.#kept.get(key);
    return kept !== undefined && performance.now() - kept.at <= MAX_AGE_MS ? kept.outcome : undefined;
  }

  #drop(key: string): void {
    const kept = this.#kept.get(key);
    if (kept === undefined) return;
    this.#kept.delete(key);
    this.#bytes -= kept.bytes;
  }
}
