/**
 * The lock that keeps a journal to one writer: a file beside it, `<journal>.lock`, naming its holder as
 * JSON: `{ pid, hostname, startedAt, lockedAt, token }`. A lock file appears whole: it is written under
 * a temporary name, synced, then hard-linked to its name, which fails when the name exists — the
 * atomic "create if absent" that works on every local file system and on NFS.
 *
 * A lock whose holder has ended (a run killed with SIGKILL, a machine that went down) is stale and is
 * taken over, but only on the same host, where `process.kill(pid, 0)` tells whether the holder runs. A
 * takeover happens under a second lock file, `<journal>.lock.takeover`, so that of two processes
 * finding the same stale lock, one removes it and the other cannot remove the new holder's lock by
 * mistake. The process's own pid in a lock (a container restarted: the new process has the pid of the
 * one killed) is told apart by the process's start time.
 */
import { randomUUID } from "node:crypto";
import { link, open, readFile, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { FlotillaError, messageOf } from "../../src/errors.ts";
import { codeOf, step } from "./errors.ts";

/** What a lock file says. */
interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  /** When the holding process started (ISO 8601). */
  readonly startedAt: string;
  /** When it took the lock (ISO 8601). */
  readonly lockedAt: string;
  /** Unique to this lock: tells a lock from a newer one of the same process. */
  readonly token: string;
}

/** A lock this process holds. */
export interface HeldLock {
  readonly path: string;
  readonly token: string;
}

/**
 * Lock files this realm holds: a second fileJournal on a held file is refused even when the clock moved
 * since. Kept on globalThis so that two copies of the library (ESM and CommonJS) share it.
 */
const held: Set<string> = ((globalThis as Record<symbol, unknown>)[Symbol.for("flotilla.file-journal.held-locks")] ??= new Set<string>()) as Set<string>;

/** How far apart two readings of the process's start time may be and still be the same process. */
const SAME_PROCESS_MS = 1_000;

/** How many times the lock is tried when it keeps changing under us (released, taken over) before giving up. */
const ATTEMPTS = 3;

/**
 * Takes the lock `path` of the journal `journal` (named in messages), taking over a stale one. Throws
 * E_JOURNAL_LOCKED when another process holds it, E_JOURNAL_FAILED when the file system refuses.
 */
export async function acquireLock(path: string, journal: string): Promise<HeldLock> {
  const me: LockHolder = {
    pid: process.pid,
    hostname: await step(journal, "read the host name for its lock", async () => hostname()),
    startedAt: new Date(processStartMs()).toISOString(),
    lockedAt: new Date().toISOString(),
    token: randomUUID(),
  };
  const temp = `${path}.${process.pid}-${me.token.slice(0, 8)}.tmp`;
  await step(journal, `create its lock file "${path}"`, () => writeSynced(temp, `${JSON.stringify(me)}\n`));
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (await step(journal, `create its lock file "${path}"`, () => linkIfAbsent(temp, path))) {
        held.add(path);
        return { path, token: me.token };
      }
      const text = await readIfPresent(path, journal);
      if (text === undefined) continue; // released since
      const holder = parseHolder(text);
      if (typeof holder === "string") {
        throw locked(
          `file journal "${journal}": its lock file "${path}" exists but does not name a holder (${holder}). flotilla writes lock files whole, so this one was left by a machine that went down or written by something else; if no run uses this journal, delete it`,
        );
      }
      checkStale(holder, me, path, journal);
      await takeOver(temp, path, text, holder, journal);
    }
    throw locked(
      `file journal "${journal}": its lock file "${path}" kept changing while this process tried to take it (other runs are starting on this journal); try again`,
    );
  } finally {
    await unlink(temp).catch(() => {});
  }
}

/** Removes the lock if it is still ours (a lock deleted by hand and taken by another run is left alone). */
export async function releaseLock(lock: HeldLock, journal: string): Promise<void> {
  held.delete(lock.path);
  const text = await readIfPresent(lock.path, journal);
  const holder = text === undefined ? undefined : parseHolder(text);
  if (typeof holder !== "object" || holder.token !== lock.token) return;
  await step(journal, `remove its lock file "${lock.path}"`, async () => {
    await unlink(lock.path).catch((error: unknown) => {
      if (codeOf(error) !== "ENOENT") throw error;
    });
  });
}

/** Returns when `holder` has ended (its lock is stale); throws E_JOURNAL_LOCKED otherwise. */
function checkStale(holder: LockHolder, me: LockHolder, path: string, journal: string): void {
  const since = `started ${holder.startedAt}, lock taken ${holder.lockedAt}`;
  if (holder.hostname !== me.hostname) {
    throw locked(
      `file journal "${journal}" is locked by process ${holder.pid} on host "${holder.hostname}" (${since}); from host "${me.hostname}" flotilla cannot check whether that process still runs. If no run on "${holder.hostname}" uses this journal any more, delete the lock file "${path}"`,
    );
  }
  if (holder.pid === me.pid) {
    if (held.has(path) || Math.abs(Date.parse(holder.startedAt) - processStartMs()) < SAME_PROCESS_MS) {
      throw locked(
        `file journal "${journal}" is already open in this process (pid ${holder.pid}, lock file "${path}"): one run at a time may use a journal; close() the other first`,
      );
    }
    return; // an earlier process that had our pid
  }
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if (codeOf(error) === "ESRCH") return; // it has ended: the lock is stale
    if (codeOf(error) !== "EPERM") {
      throw locked(
        `file journal "${journal}" is locked by process ${holder.pid} on this host (${since}), and flotilla cannot check whether it still runs: ${messageOf(error)} (under Deno, allow --allow-run). If it does not, delete the lock file "${path}"`,
        error,
      );
    }
    // EPERM: it runs, as another user.
  }
  throw locked(
    `file journal "${journal}" is in use: its lock file "${path}" names process ${holder.pid} on this host (${since}), which is still running. One run at a time may use a journal; if that process is not a run using this journal (its pid was reused), delete the lock file`,
  );
}

/**
 * Removes the stale lock whose text is `staleText`, under the takeover lock `<path>.takeover` (a link to
 * `temp`, made only if absent). Under it no other process removes the lock file, so the one checked is
 * the one removed: a process that read the same stale lock a moment ago and comes second finds another
 * text (the new holder's) and leaves it. The caller then tries to take the lock like any process.
 * Exported for its test.
 */
export async function takeOver(temp: string, path: string, staleText: string, stale: Pick<LockHolder, "pid">, journal: string): Promise<void> {
  const guard = `${path}.takeover`;
  if (!(await step(journal, `create "${guard}"`, () => linkIfAbsent(temp, guard)))) {
    throw locked(
      `file journal "${journal}": its lock file "${path}" was left by process ${stale.pid}, which has ended, and another process is taking it over right now ("${guard}" exists). Try again; if no other run is starting on this journal, delete "${guard}" (left by a process that ended while taking over)`,
    );
  }
  try {
    if ((await readIfPresent(path, journal)) === staleText) {
      await step(journal, `remove the stale lock file "${path}"`, () => unlink(path));
    }
  } finally {
    await step(journal, `remove "${guard}"`, () => unlink(guard));
  }
}

/** Creates `path` as a hard link to `temp`: false when `path` exists. */
async function linkIfAbsent(temp: string, path: string): Promise<boolean> {
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if (codeOf(error) === "EEXIST") return false;
    throw error;
  }
}

async function writeSynced(path: string, text: string): Promise<void> {
  const handle = await open(path, "wx");
  try {
    await handle.writeFile(text);
    // Synced before it gets its name: after a machine crash a lock file is whole or absent, never empty.
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function readIfPresent(path: string, journal: string): Promise<string | undefined> {
  return step(journal, `read its lock file "${path}"`, async () => {
    try {
      return await readFile(path, "utf8");
    } catch (error) {
      if (codeOf(error) === "ENOENT") return undefined;
      throw error;
    }
  });
}

/** The holder a lock file names, or why it names none. */
function parseHolder(text: string): LockHolder | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return text === "" ? "it is empty" : "it is not JSON";
  }
  const h = value as Partial<LockHolder> | null;
  if (
    typeof h !== "object" ||
    h === null ||
    !(Number.isInteger(h.pid) && (h.pid as number) > 0) ||
    typeof h.hostname !== "string" ||
    typeof h.startedAt !== "string" ||
    Number.isNaN(Date.parse(h.startedAt)) ||
    typeof h.lockedAt !== "string" ||
    typeof h.token !== "string"
  ) {
    return "its JSON lacks pid, hostname, startedAt, lockedAt or token";
  }
  return h as LockHolder;
}

/** When this process started, on the wall clock (the same in each of its threads). */
function processStartMs(): number {
  return Date.now() - process.uptime() * 1000;
}

function locked(message: string, cause?: unknown): FlotillaError {
  return new FlotillaError("E_JOURNAL_LOCKED", message, cause === undefined ? undefined : { cause });
}
