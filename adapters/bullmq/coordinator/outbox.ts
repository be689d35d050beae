/**
 * Attempts placed on agents and not yet sent, by agent: those placed in the same turn go to Redis
 * together (one addBulk per agent). An agent with a full round of work not yet taken will not idle for
 * a while, so its refill may wait BATCH_MS for more: sends are fewer and bigger (at ~6 jobs a send, an
 * addBulk's pipeline and socket write cost the coordinator more than the jobs themselves).
 */
import type { Runtime, TimerHandle } from "../../../src/runtime.ts";
import type { RemoteAttempt } from "./remote-attempt.ts";

/** How long a refill for an agent that still has a round of work waits for more attempts to send with it. */
const BATCH_MS = 3;

export class Outbox {
  #lists = new Map<string, RemoteAttempt[]>();
  /** A send at the end of this turn is due. */
  #soon = false;
  /** The later send a busy agent's refill waits for. */
  #later: TimerHandle | undefined = undefined;
  readonly #send: (lists: ReadonlyMap<string, RemoteAttempt[]>) => void;

  /** `send` gets what waited, by agent, when it is time. */
  constructor(send: (lists: ReadonlyMap<string, RemoteAttempt[]>) => void) {
    this.#send = send;
  }

  /** How many attempts for this agent wait here. */
  count(agentId: string): number {
    return this.#lists.get(agentId)?.length ?? 0;
  }

  /** Adds an attempt; `busy`: its agent still has a round of work not taken, so the send may wait. */
  add(attempt: RemoteAttempt, busy: boolean, runtime: Runtime): void {
    const list = this.#lists.get(attempt.agentId);
    if (list === undefined) this.#lists.set(attempt.agentId, [attempt]);
    else list.push(attempt);
    if (this.#soon) return;
    if (busy) {
      this.#later ??= runtime.setTimer(BATCH_MS, () => ((this.#later = undefined), this.#flush(runtime)), "bullmq batch");
      return;
    }
    this.#soon = true;
    queueMicrotask(() => this.#flush(runtime));
  }

  /** Drops the pending timer (the hub let its transport go). */
  stop(runtime: Runtime): void {
    if (this.#later !== undefined) runtime.clearTimer(this.#later);
    this.#later = undefined;
  }

  #flush(runtime: Runtime): void {
    this.#soon = false;
    this.stop(runtime);
    const lists = this.#lists;
    this.#lists = new Map();
    this.#send(lists);
  }
}
