/**
 * The reader of one agent queue's events stream (`<prefix>:<queue>:events`, where BullMQ's scripts add
 * an entry for every change of every job): the coordinator hears its jobs' "active", "completed",
 * "failed" and "progress" entries here. It reads the same stream BullMQ's `QueueEvents` reads, from a
 * given entry on, with one blocking XREAD at a time on a connection of its own. Unlike `QueueEvents`, it
 * builds nothing for the entries it does not use ("added", "waiting", … half of each job's), and, when
 * its agent is busy, it waits a little between reads (`pauseAfter`): that pause is what made it worth
 * having (the bench measured no gain from the lighter reading alone).
 * Connection loss: ioredis reconnects and sends the read again (from the last entry seen), so nothing
 * is missed; an error answer (not a stream, no permission) is retried after RETRY_MS.
 */
import { Redis, type RedisOptions } from "ioredis";
import { wait } from "../../../src/provider-kit/index.ts";
import { realRuntime } from "../../../src/runtime.ts";

/** What the reader tells, per entry of the stream. */
export interface EventSink {
  active(jobId: string): void;
  /** `returnvalue`: the job's return value, parsed from its JSON. */
  completed(jobId: string, returnvalue: unknown): void;
  failed(jobId: string, reason: string): void;
  /** `data`: the progress, parsed from its JSON. */
  progress(jobId: string, data: unknown): void;
}

/** How long to wait before reading again after Redis answered a read with an error. */
const RETRY_MS = 1000;
/** A blocking read returns after this long without entries (so a close never waits longer). */
const BLOCK_MS = 1000;
/** A read not answered this long after its BLOCK_MS is taken for a connection gone silent (BullMQ's QueueEvents waits as long). */
const SILENCE_MS = 1000;
/** A read that brought this many entries or more (about four jobs' worth: a busy agent)... */
const BUSY_ENTRIES = 16;
/** ...is followed by the next no sooner than this long after it was sent. */
const GAP_MS = 5;

/**
 * How long the reader waits before its next read, after one that brought `entries` and took `tookMs`.
 * Under load, reads are fewer and bigger: each read wakes the coordinator and Redis, and with tiny tasks
 * on a small machine those wakes cost more than the entries (BullMQ's `QueueEvents` reads again at once).
 * A quiet stream is read again at once, so a lone job's answer is not held back.
 */
export function pauseAfter(entries: number, tookMs: number): number {
  return entries >= BUSY_ENTRIES ? Math.max(0, GAP_MS - tookMs) : 0;
}

type XreadReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

export class EventReader {
  readonly #client: Redis;
  readonly #done: Promise<void>;
  #last: string;
  /** Aborted by close(): it ends a pause, and the read in flight (through `#stopped`). */
  readonly #closed = new AbortController();
  /** Resolves (with no reply) when close() is called. */
  readonly #stopped = new Promise<null>((resolve) => this.#closed.signal.addEventListener("abort", () => resolve(null), { once: true }));

  /** Starts reading `key` after entry `after` ("0-0": from the first). */
  constructor(options: RedisOptions, key: string, after: string, sink: EventSink) {
    this.#client = new Redis({
      ...options,
      maxRetriesPerRequest: null,
      connectionName: "flotilla-coordinator-events",
      // A connection gone silent (a dead host, a partition: no FIN, no RST) is dropped this long after a
      // read was sent, and the read sent again on a new one: without it the read waits for TCP keepalive
      // (~2 h), and no answer of the agent is heard. After the options: a smaller one would cut off reads.
      socketTimeout: BLOCK_MS + SILENCE_MS,
    });
    this.#client.on("error", () => {}); // ioredis reconnects by itself; the hub watches Redis through its own client
    this.#last = after;
    this.#done = this.#read(key, sink);
  }

  async #read(key: string, sink: EventSink): Promise<void> {
    const closed = this.#closed.signal;
    while (!closed.aborted) {
      let reply: XreadReply;
      const sentAt = performance.now();
      try {
        const read = this.#client.xread("BLOCK", BLOCK_MS, "STREAMS", key, this.#last);
        read.catch(() => {}); // when close wins the race below
        // Raced with close: a read queued while Redis is away is not ended by disconnect().
        reply = (await Promise.race([read, this.#stopped])) as XreadReply;
        if (closed.aborted) return;
      } catch {
        if (closed.aborted) return;
        await this.#pause(RETRY_MS);
        continue;
      }
      if (reply === null) continue;
      const entries = reply[0]![1];
      for (const [id, fields] of entries) {
        this.#last = id;
        if (closed.aborted) continue;
        try {
          deliver(fields, sink);
        } catch {
          // A sink that throws must not end the reading: every later answer of the agent comes this way.
        }
      }
      const pause = pauseAfter(entries.length, performance.now() - sentAt);
      if (pause > 0 && !closed.aborted) await this.#pause(pause);
    }
  }

  /** Waits `ms`, or until close. */
  #pause(ms: number): Promise<void> {
    return wait(realRuntime, ms, this.#closed.signal).catch(() => {});
  }

  /** Stops reading and closes the connection; resolves once the read loop has ended. */
  async close(): Promise<void> {
    this.#closed.abort();
    this.#client.disconnect(); // ends the blocking read in flight
    await this.#done;
  }
}

/** One entry's fields (`event`, `jobId`, and the value of its kind), told to the sink. */
function deliver(fields: string[], sink: EventSink): void {
  let event: string | undefined;
  let jobId: string | undefined;
  let value: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    if (name === "event") event = fields[i + 1];
    else if (name === "jobId") jobId = fields[i + 1];
    else if (name === "returnvalue" || name === "failedReason" || name === "data") value = fields[i + 1];
  }
  if (jobId === undefined) return;
  if (event === "active") sink.active(jobId);
  else if (event === "failed") sink.failed(jobId, value ?? "");
  else if (event === "completed" || event === "progress") {
    let parsed: unknown;
    try {
      parsed = value === undefined ? undefined : JSON.parse(value);
    } catch {
      return; // not JSON: not an entry of ours (an answer the hub cannot read is found by its reconcile instead)
    }
    if (event === "completed") sink.completed(jobId, parsed);
    else sink.progress(jobId, parsed);
  }
}
