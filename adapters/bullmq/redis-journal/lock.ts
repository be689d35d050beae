/**
 * One coordinator per journal: the string `<key>:lock`, set only if absent, with an expiry its holder
 * renews every third of it. Liveness across machines cannot be asked of the holder's host, so the
 * expiry is the rule: a coordinator that ended (SIGKILL, a machine gone) stops renewing, its lock
 * expires within its TTL, and the next coordinator takes it over. Every write checks the lock's value
 * (a random token inside) in the same script, so a coordinator that lost its lock cannot write.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import { FlotillaError } from "../../../src/errors.ts";

/** Runs one Redis command, bounded by timeoutMs, its failure turned into E_JOURNAL_FAILED naming `what`. */
export type Io = <T>(what: string, command: () => Promise<T>, factor?: number) => Promise<T>;

/** Sets the lock if absent; otherwise returns {0, its value, its PTTL} (both read in the same step). */
const TAKE_SCRIPT = `
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
return {0, redis.call('get', KEYS[1]), redis.call('pttl', KEYS[1])}`;
const RENEW_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0`;
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

/** This process's lock value: unique (the token), and saying who holds the journal. */
export function lockValue(): string {
  let host: string;
  try {
    host = hostname();
  } catch {
    host = "(unknown host)"; // Deno without --allow-sys: the token alone is what matters
  }
  return JSON.stringify({ token: randomUUID(), host, pid: process.pid, since: new Date().toISOString() });
}

/** Who a lock value names, in words. */
export function holderOf(value: string): string {
  try {
    const h = JSON.parse(value) as { host?: unknown; pid?: unknown; since?: unknown; token?: unknown };
    if (typeof h.token === "string" && typeof h.host === "string") return `process ${String(h.pid)} on host "${h.host}" (since ${String(h.since)})`;
  } catch {}
  return `an unknown holder (the lock holds ${JSON.stringify(value.slice(0, 40))}, not written by flotilla)`;
}

/**
 * Takes the lock, waiting up to `waitMs` for another holder's lock to be released or to expire. A
 * holder whose lock's remaining time goes up between two looks renewed it: it is alive, refused at once.
 */
export async function takeLock(client: Redis, lockKey: string, value: string, ttlMs: number, waitMs: number, where: string, io: Io): Promise<void> {
  const deadline = performance.now() + waitMs;
  let last: { value: string; pttl: number } | undefined;
  for (;;) {
    const reply = (await io("take its lock", () => client.eval(TAKE_SCRIPT, 1, lockKey, value, ttlMs))) as [number, string?, number?];
    if (reply[0] === 1) return;
    const [, held = "", pttl = -2] = reply;
    const holder = holderOf(held);
    if (pttl === -1) {
      throw locked(
        `${where} is locked by ${holder}, and its lock "${lockKey}" has no expiry, so it is never released by itself; if no run uses this journal, delete "${lockKey}"`,
      );
    }
    if (last !== undefined && last.value === held && pttl > last.pttl) {
      throw locked(
        `${where} is in use: ${holder} holds it and keeps renewing its lock. One run at a time may use a journal; a coordinator that ended leaves its lock for at most its lockTtlMs`,
      );
    }
    last = { value: held, pttl };
    const left = deadline - performance.now();
    if (left <= 0) {
      throw locked(
        `${where} is locked by ${holder}, and the lock was neither released nor did it expire within lockWaitMs (${waitMs} ms; it expires in ${pttl} ms unless renewed). One run at a time may use a journal`,
      );
    }
    // Looks closer together than the holder's renewals (every third of its TTL, which is at least the
    // time left) see the time left go up, once, between two looks.
    const pollMs = Math.max(10, Math.min(250, Math.floor(pttl / 4)));
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, left)));
  }
}

/**
 * Renews the lock every third of its TTL until the returned function is called. A renewal is sent only
 * after the previous one answered (a Redis that is away does not pile them up); one that finds the lock
 * gone stops: the next append then fails, saying why.
 */
export function keepRenewing(client: Redis, lockKey: string, value: string, ttlMs: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(renew, Math.floor(ttlMs / 3));
    // A renewal alone must not keep a process alive that has nothing else to do.
    (timer as { unref?: () => void }).unref?.();
  };
  const renew = () => {
    client.eval(RENEW_SCRIPT, 1, lockKey, value, ttlMs).then(
      (renewed) => (renewed === 1 ? schedule() : undefined),
      // A command error (not a lost lock): try again, unless the client was closed for good.
      () => (client.status === "end" ? undefined : schedule()),
    );
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** Deletes the lock if it is still ours (one taken over by another coordinator is left alone). */
export async function releaseLock(client: Redis, lockKey: string, value: string, io: Io): Promise<void> {
  await io("release its lock", () => client.eval(RELEASE_SCRIPT, 1, lockKey, value));
}

function locked(message: string): FlotillaError {
  return new FlotillaError("E_JOURNAL_LOCKED", message);
}
