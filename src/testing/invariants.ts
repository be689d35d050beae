/**
 * The invariants every explored schedule is checked against, without the test writing them: for each
 * run on the controlled runtime, no task starts before its dependencies reached a state that
 * satisfies it, each task reaches exactly one terminal state, slots are never over-committed, and
 * the run settles by the end of the test.
 */
import type { RunObservation } from "../runtime.ts";

export class InvariantViolation extends Error {
  override get name(): string {
    return "InvariantViolation";
  }
}

/** Watches one run; `check()` after every step, `finish()` when the test body is done. */
export class RunInvariants {
  readonly #run: RunObservation;
  /**
   * Each task's state as its events tell it: its terminal status (a string) once it has one, before
   * that the attempt running (a number): to check the invariants, and to say what a stuck schedule
   * waits for. (Tracked from events the checks hear anyway, plus rare ones: listening to task:ready
   * would make the executor build an event per task for every schedule.) One map, updated in place:
   * a separate map of running attempts, deleted from at every end, churned its table at every step
   * (~5% of a 200-task exploration's profile).
   */
  readonly #state = new Map<string, string | number>();
  /** Tasks with a terminal status. */
  #terminal = 0;
  /** Attempts started after their task's terminal state (an executor bug, reported): kept apart for the stuck message. */
  #late: Map<string, number> | undefined = undefined;
  #tasks = 0;
  #violation: InvariantViolation | undefined;
  #size = -1;

  constructor(run: RunObservation) {
    this.#run = run;
    const state = this.#state;
    const terminal = (status: string) => (e: { taskId: string }) => {
      const before = state.get(e.taskId);
      if (typeof before === "string") this.#fail(`task "${e.taskId}" reached a second terminal state: ${before}, then ${status}`);
      else this.#terminal++;
      state.set(e.taskId, status);
      this.#late?.delete(e.taskId);
    };
    run.on("task:succeeded", terminal("succeeded"));
    run.on("task:failed", terminal("failed"));
    run.on("task:cancelled", terminal("cancelled"));
    run.on("task:skipped", terminal("skipped"));
    run.on("job:start", (e) => void (this.#tasks = e.tasks));
    const ended = (e: { taskId: string }) => {
      if (typeof state.get(e.taskId) === "number") state.delete(e.taskId);
      this.#late?.delete(e.taskId);
    };
    run.on("task:retry", ended);
    run.on("task:requeued", ended);
    run.on("task:start", (e) => {
      if (typeof state.get(e.taskId) === "string") (this.#late ??= new Map()).set(e.taskId, e.attempt);
      else state.set(e.taskId, e.attempt);
      // (Cheap: the executor keeps the lists of an unchanged job's tasks across runs.)
      for (const dep of run.dependencies(e.taskId)) {
        const known = state.get(dep);
        const status = typeof known === "string" ? known : undefined;
        if (status === "succeeded" || (status === "failed" && run.satisfiesOnFailure(dep))) continue;
        this.#fail(`task "${e.taskId}" started attempt ${e.attempt} while its dependency "${dep}" was ${status ?? "not finished"}`);
      }
    });
    run.on("job:end", (e) => void (this.#size = e.result.tasks.size));
  }

  #fail(message: string): void {
    this.#violation ??= new InvariantViolation(`invariant violated in job "${this.#run.job}": ${message}`);
  }

  /** Throws the first violation seen, or a slot over-commit now. */
  check(): void {
    if (this.#violation !== undefined) throw this.#violation;
    const busy = this.#run.busy();
    const capacity = this.#run.capacity();
    if (busy > capacity && !this.#run.settled()) {
      throw new InvariantViolation(`invariant violated in job "${this.#run.job}": ${busy} attempts hold slots, but only ${capacity} may`);
    }
  }

  /**
   * What this run is waiting for, in words (for a schedule that is stuck), or undefined once it
   * settled: `job "etl": task "load" (attempt 1) is running; 2 more have not started (…)`.
   */
  waitingFor(): string | undefined {
    if (this.#run.settled()) return undefined;
    const parts: string[] = [];
    const running: string[] = [];
    for (const [id, known] of this.#state) if (typeof known === "number") running.push(`"${id}" (attempt ${known})`);
    for (const [id, attempt] of this.#late ?? []) running.push(`"${id}" (attempt ${attempt})`);
    if (running.length > 0) parts.push(`${running.length === 1 ? "task" : "tasks"} ${list(running)} ${running.length === 1 ? "is" : "are"} running`);
    const rest = this.#tasks - this.#terminal - running.length;
    if (rest > 0) parts.push(`${rest} more ${rest === 1 ? "has" : "have"} not started (waiting for dependencies, a slot, or a node the provider is starting)`);
    return `job "${this.#run.job}": ${parts.length > 0 ? parts.join("; ") : "no task is running"}`;
  }

  /** At the end of the test: the run settled, and every task reached exactly one terminal state. */
  finish(): void {
    this.check();
    if (!this.#run.settled()) throw new InvariantViolation(`the run of job "${this.#run.job}" had not settled when the test ended (await its result)`);
    if (this.#size !== this.#terminal) {
      throw new InvariantViolation(`invariant violated in job "${this.#run.job}": ${this.#size} tasks, but ${this.#terminal} reached a terminal state`);
    }
  }
}

/** `"a", "b" and "c"`; past six names, the first five and how many more: `"a", "b", "c", "d", "e" and 3 more`. */
function list(names: string[]): string {
  const shown = names.length > 6 ? [...names.slice(0, 5), `${names.length - 5} more`] : names;
  return shown.length === 1 ? shown[0]! : `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}`;
}
