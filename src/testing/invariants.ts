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
  readonly #terminal = new Map<string, string>();
  #violation: InvariantViolation | undefined;
  #size = -1;

  constructor(run: RunObservation) {
    this.#run = run;
    const terminal = (status: string) => (e: { taskId: string }) => {
      const before = this.#terminal.get(e.taskId);
      if (before !== undefined) this.#fail(`task "${e.taskId}" reached a second terminal state: ${before}, then ${status}`);
      this.#terminal.set(e.taskId, status);
    };
    run.on("task:succeeded", terminal("succeeded"));
    run.on("task:failed", terminal("failed"));
    run.on("task:cancelled", terminal("cancelled"));
    run.on("task:skipped", terminal("skipped"));
    const depsOf = new Map<string, readonly string[]>();
    run.on("task:start", (e) => {
      let deps = depsOf.get(e.taskId);
      if (deps === undefined) depsOf.set(e.taskId, (deps = run.dependencies(e.taskId)));
      for (const dep of deps) {
        const status = this.#terminal.get(dep);
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

  /** At the end of the test: the run settled, and every task reached exactly one terminal state. */
  finish(): void {
    this.check();
    if (!this.#run.settled()) throw new InvariantViolation(`the run of job "${this.#run.job}" had not settled when the test ended (await its result)`);
    if (this.#size !== this.#terminal.size) {
      throw new InvariantViolation(`invariant violated in job "${this.#run.job}": ${this.#size} tasks, but ${this.#terminal.size} reached a terminal state`);
    }
  }
}
