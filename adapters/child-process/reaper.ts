/**
 * The reaper: a small `sh` beside this process that stops its commands if this process dies without
 * stopping them (SIGKILL, the OOM killer), when no exit hook runs. Each command runs in a process group
 * of its own (so a cancel reaches its children), which also means nothing else would ever stop it.
 *
 * This process keeps the list of its commands' groups in a file of a private directory: "+PGID" when a
 * command starts, "-PGID" when its leader exited (a file, not the pipe: writing to the reaper would wake
 * it for every command, which cost ~5% of a command's time in bench/child-process.mjs). The reaper only
 * waits for end of file on its stdin (nothing is ever written to it): this process is gone and the
 * kernel closed the pipe, or every node stopped, removed the directory and closed it. It then sends each
 * group the file still lists SIGTERM, then SIGKILL a second later, removes the directory and exits. It runs in a session of its own and ignores SIGINT, SIGTERM
 * and SIGHUP: a Ctrl-C or a signal to this process's group is this process's to handle.
 *
 * One per thread that runs commands, started with the first command while a node is up and ended when
 * the last node stops. If `sh` cannot be started, commands run as before (nothing reaps them).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, ftruncateSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRIPT = `trap '' INT TERM HUP
while read -r _; do :; done
[ -d "$1" ] || exit 0
groups=$(awk '/^[+]/ { live[substr($0, 2)] = 1 } /^-/ { delete live[substr($0, 2)] } END { for (g in live) printf " -%s", g }' "$1/groups" 2>/dev/null)
rm -rf "$1"
[ -z "$groups" ] && exit 0
kill -s TERM -- $groups 2>/dev/null
sleep 1
kill -s KILL -- $groups 2>/dev/null
exit 0`;

/** The file is rewritten with only the live groups once it has this many lines. */
const COMPACT_AT = 1024;

interface Reaper {
  readonly child: ChildProcess;
  readonly dir: string;
  /** The list's file, opened for appending. */
  fd: number;
  readonly live: Set<number>;
  lines: number;
}

let reaper: Reaper | undefined;
/** Settles when the running reaper has exited (or failed to start). */
let exited: Promise<void> = Promise.resolve();

function start(): Reaper | undefined {
  let dir: string | undefined;
  try {
    // mkdtemp makes the directory readable by this user only.
    dir = mkdtempSync(join(tmpdir(), "flotilla-reaper-"));
    const fd = openSync(join(dir, "groups"), "a");
    const child = spawn("sh", ["-c", SCRIPT, "flotilla-reaper", dir], { stdio: ["pipe", "ignore", "ignore"], detached: true });
    const started: Reaper = { child, dir, fd, live: new Set(), lines: 0 };
    exited = new Promise<void>((resolve) => {
      const gone = () => {
        // Gone before its end (killed by hand, no sh): the next command starts another.
        if (reaper === started) forget(started);
        resolve();
      };
      child.once("exit", gone);
      child.once("error", gone);
    });
    child.on("error", () => {}); // no sh: commands are not reaped, and run as before
    child.stdin!.on("error", () => {});
    // It must not keep this process alive: it is there for when this process ends.
    child.unref();
    (child.stdin as { unref?: () => void }).unref?.();
    return started;
  } catch {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

/** Lets a reaper that ended on its own go: its list, and its directory. */
function forget(gone: Reaper): void {
  reaper = undefined;
  closeSync(gone.fd);
  rmSync(gone.dir, { recursive: true, force: true });
}

function append(r: Reaper, line: string): void {
  writeSync(r.fd, line);
  if (++r.lines < COMPACT_AT) return;
  // Rewritten whole and renamed over: the reaper reads either list, never half of one.
  const next = join(r.dir, "groups.next");
  const fd = openSync(next, "w");
  writeSync(fd, [...r.live].map((g) => `+${g}\n`).join(""));
  closeSync(fd);
  renameSync(next, join(r.dir, "groups"));
  closeSync(r.fd);
  r.fd = openSync(join(r.dir, "groups"), "a");
  r.lines = r.live.size;
}

/** A command's group started: it is stopped if this process dies first. */
export function reap(pgid: number): void {
  reaper ??= start();
  if (reaper === undefined) return;
  reaper.live.add(pgid);
  append(reaper, `+${pgid}\n`);
}

/** A command's leader exited (its group was killed with it): it is no longer the reaper's. */
export function spare(pgid: number): void {
  if (reaper === undefined || !reaper.live.delete(pgid)) return;
  if (reaper.live.size > 0) {
    append(reaper, `-${pgid}\n`);
    return;
  }
  ftruncateSync(reaper.fd); // nothing runs: the list starts over
  reaper.lines = 0;
}

/** The last node stopped: the reaper exits (its list is empty); resolves once it has. */
export function endReaper(): Promise<void> {
  if (reaper === undefined) return exited;
  const ending = reaper;
  reaper = undefined;
  closeSync(ending.fd);
  // Every command ended (the node waited for them): the list is empty, and the reaper, finding no
  // directory, exits at once.
  rmSync(ending.dir, { recursive: true, force: true });
  ending.child.ref(); // its exit is awaited now: it keeps the event loop alive until then
  ending.child.stdin?.end();
  return exited;
}
