/** The options of `redisJournal()`, their defaults and their checks. */
import { FlotillaError } from "../../../src/errors.ts";
import { MAX_TIMER_MS, checkOptionsObject, invalidOption } from "../../../src/validation.ts";
import { type RedisConnection, type ResolvedConnection, resolveConnection } from "../connection.ts";

export interface RedisJournalOptions {
  /** Where Redis is: a `redis://` / `rediss://` URL, ioredis options, or an ioredis client of yours (never closed by the journal). */
  readonly connection: RedisConnection;
  /**
   * The journal's name in Redis: its records are the list `<key>`, its lock the string `<key>:lock`.
   * One key per run you want to resume (e.g. `"flotilla:journal:nightly-build"`). On Redis Cluster,
   * put the name in braces (`"{nightly-build}"`) so both keys are in one slot.
   */
  readonly key: string;
  /**
   * How long the lock lives without renewal (ms): a coordinator that ends without closing (SIGKILL, a
   * machine lost) holds the journal this long at most. Renewed every third of it. From 100 to 2^31-1.
   * @default 15000
   */
  readonly lockTtlMs?: number;
  /**
   * How long `open()` waits for a lock another coordinator holds (ms): a lock left by one that ended
   * expires meanwhile and is taken over. A holder seen renewing its lock is refused at once
   * (E_JOURNAL_LOCKED naming it), and any holder after this long. From 0 to 2^31-1.
   * @default lockTtlMs + 1000
   */
  readonly lockWaitMs?: number;
  /**
   * How long one Redis command may go unanswered (ms) before the open or append fails with
   * E_JOURNAL_FAILED (ioredis otherwise waits for a reconnect forever). From 1 to 2^31-1.
   * @default 10000
   */
  readonly timeoutMs?: number;
  /**
   * After each append, wait until this many replicas acknowledged it (Redis `WAIT`, up to timeoutMs);
   * fewer fail the append with E_JOURNAL_FAILED. 0 does not wait.
   * @default 0
   */
  readonly waitReplicas?: number;
}

/** The options checked, defaults filled in. */
export interface JournalSettings {
  readonly connection: ResolvedConnection;
  readonly key: string;
  readonly lockTtlMs: number;
  readonly lockWaitMs: number;
  readonly timeoutMs: number;
  readonly waitReplicas: number;
}

const WHERE = "redisJournal()";
const KNOWN = ["connection", "key", "lockTtlMs", "lockWaitMs", "timeoutMs", "waitReplicas"];
export const MIN_LOCK_TTL_MS = 100;

/** Checks `options` (E_INVALID_OPTION naming the option, what it must be and what it was). */
export function journalSettings(options: unknown): JournalSettings {
  if (options === undefined) {
    throw new FlotillaError("E_INVALID_OPTION", `${WHERE}: takes options { connection, key, ... }, received undefined`);
  }
  checkOptionsObject(WHERE, options, KNOWN);
  const o = options as Record<string, unknown>;
  if (o.connection === undefined) throw invalidOption(WHERE, "connection", "a redis:// URL, ioredis options or an ioredis client", undefined);
  const connection = resolveConnection(WHERE, o.connection);
  if (typeof o.key !== "string" || o.key.trim() === "") {
    throw invalidOption(WHERE, "key", "a non-empty string, not only whitespace (the journal's name in Redis)", o.key);
  }
  const lockTtlMs = integer(o, "lockTtlMs", MIN_LOCK_TTL_MS, 15_000);
  return {
    connection,
    key: o.key,
    lockTtlMs,
    lockWaitMs: integer(o, "lockWaitMs", 0, Math.min(lockTtlMs + 1_000, MAX_TIMER_MS)),
    timeoutMs: integer(o, "timeoutMs", 1, 10_000),
    waitReplicas: integer(o, "waitReplicas", 0, 0, 1_000),
  };
}

function integer(o: Record<string, unknown>, name: string, min: number, fallback: number, max = MAX_TIMER_MS): number {
  const value = o[name];
  if (value === undefined) return fallback;
  if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) return value;
  throw invalidOption(WHERE, name, `an integer from ${min} to ${max}${name.endsWith("Ms") ? " (milliseconds)" : ""}`, value);
}
