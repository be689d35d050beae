/** What the tests of providers that start processes share: whether a process still runs, and waiting until it is gone. */
import { execFileSync } from "node:child_process";

/** Whether a process is running. A zombie (dead, waiting for its parent to collect it) is not. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
  // kill(pid, 0) also succeeds for a zombie. Orphans are collected by PID 1, which some containers do
  // slowly, so ask ps for the state (ps, not /proc: Deno lets a test read /proc only with --allow-all).
  let stat: string;
  try {
    stat = execFileSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" });
  } catch (error) {
    // ps exits 1 and prints nothing when no process has this pid: it ended since kill(pid, 0).
    const { status, stdout, code } = error as { status?: number | null; stdout?: string | null; code?: string };
    if (status === 1 && (stdout ?? "") === "") return false;
    // Anything else (no ps at all, a ps without -o/-p) must not pass for "not running".
    throw new Error(
      `isRunning(${pid}): cannot tell whether the process runs: \`ps -o stat= -p ${pid}\` failed (${code ?? `exit status ${status}`}); these tests need procps' ps`,
      { cause: error },
    );
  }
  return !stat.trim().startsWith("Z");
}

/**
 * Resolves once `pid` is no longer running. A process killed with SIGKILL finishes dying in the kernel a
 * moment after its parent heard it exit; this checks once per macrotask and fails after 5 s (a bound on
 * a failure, not a wait for success).
 */
export async function untilGone(pid: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (isRunning(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} is still running`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
