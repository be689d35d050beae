/**
 * What the live view shows, kept up to date from a run's events: each task's state and the counts of
 * each, the nodes each pool has up, and the durations of finished tasks (for the ETA).
 */
import type { RunEvent, RunEventName } from "../../src/events.ts";
import type { RunHandle } from "../../src/run.ts";

type State = "running" | "succeeded" | "failed" | "cancelled" | "skipped";

/** The events the tally reads. */
const TALLIED: readonly RunEventName[] = [
  "job:start",
  "task:start",
  "task:retry",
  "task:requeued",
  "task:succeeded",
  "task:failed",
  "task:cancelled",
  "task:skipped",
  "node:start",
  "node:stop",
  "node:lost",
  "node:preempted",
];

export class RunTally {
  job = "";
  /** Tasks in the run (from job:start). */
  total = 0;
  /** When job:start came (the run's clock), undefined before. */
  startedAt: number | undefined = undefined;
  /** Tasks in each state; a task in none of them is queued (waiting for dependencies, a slot or a retry). */
  readonly counts: Record<State, number> = { running: 0, succeeded: 0, failed: 0, cancelled: 0, skipped: 0 };
  /** Ids of the tasks running now, in the order they started. */
  readonly running = new Set<string>();
  /** Pool -> ids of its nodes that are up. */
  readonly nodes = new Map<string, Set<string>>();
  readonly #state = new Map<string, State>();
  readonly #firstStart = new Map<string, number>();
  #finishedMs = 0;
  #finished = 0;

  /** Listens to `handle`'s events until the run ends. */
  listen(handle: RunHandle<any>): void {
    const observe = (event: RunEvent): void => this.observe(event);
    for (const name of TALLIED) handle.on(name, observe);
  }

  get queued(): number {
    const { running, succeeded, failed, cancelled, skipped } = this.counts;
    return Math.max(0, this.total - running - succeeded - failed - cancelled - skipped);
  }

  /** Tasks in a final state. */
  get done(): number {
    const { succeeded, failed, cancelled, skipped } = this.counts;
    return succeeded + failed + cancelled + skipped;
  }

  observe(event: RunEvent): void {
    switch (event.type) {
      case "job:start":
        this.job = event.job;
        this.total = event.tasks;
        this.startedAt = event.at;
        break;
      case "task:start":
        if (!this.#firstStart.has(event.taskId)) this.#firstStart.set(event.taskId, event.at);
        this.#set(event.taskId, "running");
        break;
      case "task:retry":
      case "task:requeued":
        this.#set(event.taskId, undefined);
        break;
      case "task:succeeded":
      case "task:failed":
        this.#finish(event.taskId, event.at);
        this.#set(event.taskId, event.type === "task:succeeded" ? "succeeded" : "failed");
        break;
      case "task:cancelled":
      case "task:skipped":
        this.#set(event.taskId, event.type === "task:cancelled" ? "cancelled" : "skipped");
        break;
      case "node:start": {
        let up = this.nodes.get(event.pool);
        if (up === undefined) this.nodes.set(event.pool, (up = new Set()));
        up.add(event.nodeId);
        break;
      }
      case "node:stop":
      case "node:lost":
      case "node:preempted":
        this.nodes.get(event.pool)?.delete(event.nodeId);
        break;
    }
  }

  /**
   * Milliseconds left, estimated as the average duration of the tasks finished so far times the tasks
   * left, divided by the tasks running now; undefined until a task has finished (or when nothing runs).
   */
  etaMs(): number | undefined {
    const left = this.total - this.done;
    const parallel = this.counts.running;
    if (this.#finished === 0 || left <= 0 || parallel === 0) return undefined;
    return ((this.#finishedMs / this.#finished) * left) / parallel;
  }

  #finish(id: string, at: number): void {
    const started = this.#firstStart.get(id);
    if (started === undefined) return;
    this.#finishedMs += at - started;
    this.#finished++;
  }

  #set(id: string, state: State | undefined): void {
    const before = this.#state.get(id);
    if (before === state) return;
    if (before !== undefined) this.counts[before]--;
    if (state === undefined) this.#state.delete(id);
    else {
      this.#state.set(id, state);
      this.counts[state]++;
    }
    if (state === "running") this.running.add(id);
    else this.running.delete(id);
  }
}
