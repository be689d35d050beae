/**
 * The reaper: a small `sh` beside this process that stops its commands if this process dies without
 * stopping them (SIGKILL, the OOM killer), when no exit hook runs. Each command runs in a process group
 * of its own (so a cancel reaches its children), which also means nothing else would ever stop it.
 *
 * This process lists its commands' groups as empty files named by their ids in a private directory,
 * made when a command starts and removed when its leader exits (files, not lines sent to the reaper:
 * writing to it would wake it for every command). The reaper only waits for end of file on its stdin,
 * where nothing is ever written: this process is gone and the kernel closed the pipe, or every node
 * stopped, removed the directory and closed it. It then sends each group still listed SIGTERM, and
 * SIGKILL a second later to those still there (looked for every 0.1 s, so that the id of a group that
 * ended is not signalled again once another process may have it), removes the directory and exits.
 * It runs in a session of its own and ignores SIGINT, SIGTERM and SIGHUP: a Ctrl-C or a signal to this
 * process's group is this process's to handle.
 *
 * One per thread that runs commands, started with the first command while a node is up and ended when
 * the last node stops. Nothing here throws. If the reaper cannot be started (no temporary directory,
 * no process left to spawn), commands run as before and the next command tries again; if /bin/sh cannot
 * be run, no reaper is tried again; if its directory goes (a temp cleaner), another takes over.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRIPT = `trap '' INT TERM HUP
while read -r _; do :; done
[ -d "$1" ] || exit 0
groups=
for f in "$1"/*; do [ -e "$f" ] && groups="$groups -\${f##*/}"; done
rm -rf "$1"
[ -z "$groups" ] && exit 0
kill -s TERM -- $groups 2>/dev/null
n=0
while [ $n -lt 10 ]; do
  sleep 0.1 2>/dev/null || sleep 1
  left=
  for g in $groups; do kill -0 -- "$g" 2>/dev/null && left="$left $g"; done
  groups=$left
  [ -z "$groups" ] && exit 0
  n=$((n + 1))
done
kill -s KILL -- $groups 2>/dev/null
exit 0`;

interface Reaper {
  readonly child: ChildProcess;
  readonly dir: string;
}

/** The groups of commands running now (the truth the reaper's directory mirrors). */
const live = new Set<number>();
let reaper: Reaper | undefined;
/** Settles when the running reaper has exited (or failed to start). */
let exited: Promise<void> = Promise.resolve();
/** /bin/sh could not be run: no reaper is tried again in this thread. */
let noShell = false;

function start(): Reaper | undefined {
  let dir: string;
  try {
    // mkdtemp makes the directory readable by this user only.
    dir = mkdtempSync(join(tmpdir(), "flotilla-reaper-"));
  } catch {
    return undefined; // no temporary directory: the next command tries again
  }
  let child: ChildProcess;
  try {
    child = spawn("/bin/sh", ["-c", SCRIPT, "flotilla-reaper", dir], { stdio: ["pipe", "ignore", "ignore"], detached: true });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  child.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT" || error.code === "EACCES") noShell = true; // not EMFILE, EAGAIN: those pass
  });
  if (child.pid === undefined) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  const started: Reaper = { child, dir };
  exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      // Gone before its end (killed by hand): the next command starts another.
      if (reaper === started) drop(started);
      resolve();
    });
  });
  child.stdin!.on("error", () => {});
  // It must not keep this process alive: it is there for when this process ends.
  child.unref();
  (child.stdin as { unref?: () => void }).unref?.();
  for (const pgid of live) {
    if (list(started, pgid)) continue;
    drop(started);
    return undefined;
  }
  return started;
}

/** Lists a group in the reaper's directory; false if it could not (the directory is gone). */
function list(r: Reaper, pgid: number): boolean {
  try {
    closeSync(openSync(join(r.dir, String(pgid)), "w"));
    return true;
  } catch {
    return false;
  }
}

/** The reaper's directory went (a temp cleaner): that reaper goes, and another takes every live group. */
function replace(r: Reaper): void {
  drop(r);
  if (live.size > 0 && !noShell) reaper = start();
}

/** Lets a reaper go: ended (it finds no directory and exits at once), its directory removed. */
function drop(r: Reaper): void {
  if (reaper === r) reaper = undefined;
  try {
    rmSync(r.dir, { recursive: true, force: true });
  } catch {
    // Left for the reaper, which removes it at its end.
  }
  r.child.stdin?.end();
}

/** A command's group started: it is stopped if this process dies first. */
export function reap(pgid: number): void {
  live.add(pgid);
  if (reaper === undefined && !noShell) reaper = start();
  else if (reaper !== undefined && !list(reaper, pgid)) replace(reaper);
}

/** A command's leader exited (its group was killed with it): it is no longer the reaper's. */
export function spare(pgid: number): void {
  if (!live.delete(pgid) || reaper === undefined) return;
  try {
    unlinkSync(join(reaper.dir, String(pgid)));
  } catch {
    replace(reaper);
  }
}

/**
 * The program exits and its exit hook has killed every group (node.ts): the reaper has nothing left to
 * do, and must not signal those ids again once they may belong to other processes.
 */
export function disarmReaper(): void {
  live.clear();
  if (reaper !== undefined) drop(reaper);
}

/** The last node stopped (every command ended): the reaper exits; resolves once it has. */
export function endReaper(): Promise<void> {
  live.clear();
  const ending = reaper;
  if (ending === undefined) return exited;
  ending.child.ref(); // its exit is awaited now: it keeps the event loop alive until then
  drop(ending);
  return exited;
}
