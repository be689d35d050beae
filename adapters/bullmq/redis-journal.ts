/**
 * `redisJournal({ connection, key })`: the Journal contract (src/journal.ts) on Redis, so a coordinator
 * restarted on another machine resumes the run. Layout in Redis: redis-journal/format.ts; the lock:
 * redis-journal/lock.ts; options: redis-journal/options.ts.
 */
import type { Redis } from "ioredis";
import { FlotillaError, messageOf } from "../../src/errors.ts";
import type { Journal, JournalRecord } from "../../src/journal.ts";
import { SteppedJournal } from "../../src/provider-kit/stepped-journal.ts";
import { connectionName, newClient } from "./connection.ts";
import { APPEND_SCRIPT, HEADER, parseEntries } from "./redis-journal/format.ts";
import { type Io, holderOf, keepRenewing, lockValue, releaseLock, takeLock } from "./redis-journal/lock.ts";
import { type JournalSettings, type RedisJournalOptions, journalSettings } from "./redis-journal/options.ts";

export type { RedisJournalOptions };

/**
 * A journal kept in Redis: a run whose coordinator was killed resumes when the same job runs again
 * with the same key, on any machine that reaches the same Redis.
 *
 * - `open()` takes the lock `<key>:lock` (waiting up to lockWaitMs for one left by a coordinator that
 *   ended to expire; E_JOURNAL_LOCKED for one that is alive) and returns the list `<key>`'s records.
 * - `append(records)` pushes them as one list entry, atomically and only while the lock is ours; it
 *   resolves once Redis answered (and `waitReplicas` replicas acknowledged). That survives a crash of
 *   the coordinator; surviving a crash of Redis needs its persistence (`appendonly yes`, `appendfsync always`).
 * - `close()` stops renewing the lock, releases it (when Redis does not answer, it expires within
 *   lockTtlMs by itself), and quits the client it made (never yours).
 *
 * @example
 * import { redisJournal } from "flotilla/bullmq";
 * await run(job, { journal: redisJournal({ connection: "redis://redis.internal:6379", key: "nightly" }) });
 */
export function redisJournal(options: RedisJournalOptions): Journal {
  return new RedisJournal(journalSettings(options));
}

class RedisJournal extends SteppedJournal {
  readonly name: string;
  readonly #s: JournalSettings;
  /** `redis journal "<key>" on host:port`: how every message names it (never with a password). */
  readonly #where: string;
  readonly #lockKey: string;
  #client: { readonly client: Redis; readonly owned: boolean } | undefined;
  #lock = "";
  #stopRenewing: () => void = () => {};
  /** How many entries the list has since our last write: a list of another length changed behind us. */
  #length = 0;
  /** The first failed append: after it nothing more is written (its entry may still land, or not). */
  #failure: FlotillaError | undefined;
  /** The last connection error ioredis reported, for the message of a command that does not answer. */
  #lastError: string | undefined;
  readonly #onError = (error: unknown) => {
    this.#lastError = messageOf(error);
  };

  constructor(settings: JournalSettings) {
    super();
    this.#s = settings;
    this.name = settings.key;
    this.#where = `redis journal "${settings.key}" on ${connectionName(settings.connection)}`;
    this.#lockKey = `${settings.key}:lock`;
  }

  protected get where(): string {
    return this.#where;
  }

  protected async openStep(): Promise<JournalRecord[]> {
    const s = this.#s;
    const made = newClient(s.connection, "flotilla-journal");
    const { client } = made;
    client.on("error", this.#onError);
    this.#client = made;
    this.#lastError = undefined;
    this.#failure = undefined;
    this.#lock = lockValue();
    let locked = false;
    try {
      await takeLock(client, this.#lockKey, this.#lock, s.lockTtlMs, s.lockWaitMs, this.#where, this.#io);
      locked = true;
      this.#stopRenewing = keepRenewing(client, this.#lockKey, this.#lock, s.lockTtlMs);
      const type = await this.#io("read its type", () => client.type(s.key));
      if (type === "none") {
        this.#length = 0;
        await this.#push(HEADER);
        return [];
      }
      if (type !== "list") {
        throw new FlotillaError(
          "E_JOURNAL_FAILED",
          `${this.#where}: the key holds a ${type}, not a flotilla journal (a list), so it is neither read nor written; give redisJournal() another key`,
        );
      }
      const entries = await this.#io("read its records", () => client.lrange(s.key, 0, -1));
      const records = parseEntries(entries, this.#where);
      this.#length = entries.length;
      return records;
    } catch (error) {
      this.#stopRenewing();
      if (locked) await releaseLock(client, this.#lockKey, this.#lock, this.#io).catch(() => {});
      await this.#quit();
      throw error;
    }
  }

  protected async appendStep(records: readonly JournalRecord[]): Promise<void> {
    if (this.#failure !== undefined) {
      throw new FlotillaError("E_JOURNAL_FAILED", `${this.#where}: an earlier append failed, so nothing more is written (${this.#failure.message})`, {
        cause: this.#failure,
      });
    }
    let entry: string;
    try {
      entry = JSON.stringify(records);
    } catch (error) {
      throw new FlotillaError("E_JOURNAL_FAILED", `${this.#where}: cannot write the records as JSON: ${messageOf(error)}`, { cause: error });
    }
    try {
      await this.#push(entry);
    } catch (error) {
      this.#failure = error as FlotillaError;
      throw error;
    }
  }

  /** Pushes one entry if the lock is ours and the list is as we left it; then waits for replicas if asked. */
  async #push(entry: string): Promise<void> {
    const { client } = this.#client!;
    const reply = (await this.#io("append", () => client.eval(APPEND_SCRIPT, 2, this.#s.key, this.#lockKey, this.#lock, this.#length, entry))) as [
      number,
      number,
      string?,
    ];
    const [ok, length, holder = ""] = reply;
    if (ok !== 1) throw this.#refused(length, holder);
    this.#length = length;
    const replicas = this.#s.waitReplicas;
    if (replicas > 0) {
      const acked = await this.#io("wait for replicas", () => client.wait(replicas, this.#s.timeoutMs), 2);
      if (acked < replicas) {
        throw new FlotillaError(
          "E_JOURNAL_FAILED",
          `${this.#where}: the append reached the primary, but only ${acked} of the ${replicas} replicas asked for (waitReplicas) acknowledged it within ${this.#s.timeoutMs} ms (timeoutMs)`,
        );
      }
    }
  }

  /** Why the append script refused to write, in words. */
  #refused(length: number, holder: string): FlotillaError {
    const expected = this.#length;
    let why: string;
    if (holder !== "" && holder !== this.#lock) {
      why = `this coordinator lost its lock: it expired (not renewed within lockTtlMs: was this process paused, or cut off from Redis?) and ${holderOf(holder)} took the journal over`;
    } else if (length < expected) {
      why = `Redis lost data: the list has ${length} of the ${expected} entries written${holder === "" ? " and the lock is gone" : ""} (was Redis restarted without persistence? see appendonly)`;
    } else if (holder === "") {
      why = "this coordinator lost its lock: it expired (not renewed within lockTtlMs: was this process paused, or cut off from Redis?) or was deleted";
    } else {
      why = `the list has ${length} entries where this coordinator left ${expected}: something else wrote into it`;
    }
    return new FlotillaError("E_JOURNAL_FAILED", `${this.#where}: cannot append: ${why}. Nothing more is written, so as not to mix two runs' records`);
  }

  protected async closeStep(): Promise<void> {
    this.#stopRenewing();
    // Best effort: a lock not released (Redis away) expires by itself within lockTtlMs, now that it is
    // not renewed, and failing here would fail a run whose records are all written.
    await releaseLock(this.#client!.client, this.#lockKey, this.#lock, this.#io).catch(() => {});
    await this.#quit();
  }

  /** Quits the client we made (disconnects it if Redis does not answer); never the caller's. */
  async #quit(): Promise<void> {
    const made = this.#client;
    this.#client = undefined;
    if (made === undefined) return;
    if (!made.owned) {
      made.client.off("error", this.#onError);
      return;
    }
    // Our own client keeps its error listener: one still reconnecting may report an error after this.
    if (made.client.status === "ready") await this.#io("quit", () => made.client.quit()).catch(() => {});
    made.client.disconnect();
  }

  /** Runs one command bounded by timeoutMs (times `factor`). ioredis alone would wait for Redis forever. */
  readonly #io: Io = async (what, command, factor = 1) => {
    const limit = this.#s.timeoutMs * factor;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const last = this.#lastError === undefined ? "is Redis running and reachable?" : `last connection error: ${this.#lastError}`;
        reject(new FlotillaError("E_JOURNAL_FAILED", `${this.#where}: cannot ${what}: Redis did not answer within ${limit} ms (timeoutMs; ${last})`));
      }, limit);
    });
    try {
      return await Promise.race([command(), late]);
    } catch (error) {
      if (error instanceof FlotillaError) throw error;
      throw new FlotillaError("E_JOURNAL_FAILED", `${this.#where}: cannot ${what}: ${messageOf(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  };
}
