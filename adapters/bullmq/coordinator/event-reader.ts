/**
 * The reader of one agent queue's events stream (`<prefix>:<queue>:events`, where BullMQ's scripts add
 * an entry for every change of every job): the coordinator hears its jobs' "active", "completed",
 * "failed" and "progress" entries here. It reads the same stream BullMQ's `QueueEvents` reads, from a
 * given entry on, with one blocking XREAD at a time on a connection of its own; unlike `QueueEvents`, it
 * builds nothing for the entries it does not use ("added", "waiting", … half of each job's), and calls
 * its sink once per entry: in a profile that was ~10–20% of the coordinator's CPU per attempt.
 * Connection loss: ioredis reconnects and sends the read again (from the last entry seen), so nothing
 * is missed; an error answer (not a stream, no permission) is retried after RETRY_MS.
 */
import { Redis, type RedisOptions } from "ioredis";

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

type XreadReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

export class EventReader {
  readonly #client: Redis;
  readonly #done: Promise<void>;
  #closing = false;
  #last: string;
  #retry: ReturnType<typeof setTimeout> | undefined = undefined;
  #wakeRetry: (() => void) | undefined = undefined;

  /** Starts reading `key` after entry `after` ("0-0": from the first). */
  constructor(options: RedisOptions, key: string, after: string, sink: EventSink) {
    this.#client = new Redis({ ...options, maxRetriesPerRequest: null, connectionName: "flotilla-coordinator-events" });
    this.#client.on("error", () => {}); // ioredis reconnects by itself; the hub watches Redis through its own client
    this.#last = after;
    this.#done = this.#read(key, sink);
  }

  async #read(key: string, sink: EventSink): Promise<void> {
    while (!this.#closing) {
      let reply: XreadReply;
      try {
        reply = (await this.#client.xread("BLOCK", BLOCK_MS, "STREAMS", key, this.#last)) as XreadReply;
      } catch {
        if (this.#closing) return;
        await new Promise<void>((resolve) => {
          this.#wakeRetry = resolve;
          this.#retry = setTimeout(resolve, RETRY_MS);
        });
        continue;
      }
      if (reply === null) continue;
      for (const [id, fields] of reply[0]![1]) {
        this.#last = id;
        if (!this.#closing) deliver(fields, sink);
      }
    }
  }

  /** Stops reading and closes the connection; resolves once the read loop has ended. */
  async close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#retry);
    this.#wakeRetry?.();
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
