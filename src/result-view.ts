/**
 * The run result. Task outcomes are a read-only Map view over the run's final arrays: a
 * TaskResult object is built when asked for, so a million-task run does not allocate a million
 * result objects nobody reads.
 */
import { SUCCEEDED, STATE_NAMES } from "./task-state.ts";
import type { JobStatus, RunResult, TaskResult, TaskResults, TaskStatus } from "./result.ts";

const STATUS = STATE_NAMES as readonly string[] as readonly TaskStatus[];

interface FinalState {
  readonly job: string;
  readonly status: JobStatus;
  readonly error: unknown;
  readonly ids: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  readonly state: readonly number[];
  readonly attempts: readonly number[];
  readonly outputs: readonly unknown[];
  readonly errors: readonly unknown[];
  readonly startedAt: readonly (number | undefined)[];
  readonly finishedAt: readonly (number | undefined)[];
  readonly runStartedAt: number;
  readonly runFinishedAt: number;
}

class TaskResultsView implements TaskResults<any> {
  readonly #s: FinalState;
  constructor(state: FinalState) {
    this.#s = state;
  }
  get size(): number {
    return this.#s.ids.length;
  }
  has(id: string): boolean {
    return this.#s.index.has(id);
  }
  get(id: string): TaskResult<any> {
    const i = this.#s.index.get(id);
    return (i === undefined ? undefined : this.#at(i)) as TaskResult<any>;
  }
  #at(i: number): TaskResult {
    const s = this.#s;
    return {
      status: STATUS[s.state[i]!]!,
      attempts: s.attempts[i]!,
      output: s.outputs[i],
      error: s.errors[i],
      startedAt: s.startedAt[i],
      finishedAt: s.finishedAt[i],
    };
  }
  *entries(): MapIterator<[string, TaskResult]> {
    const ids = this.#s.ids;
    for (let i = 0; i < ids.length; i++) yield [ids[i]!, this.#at(i)];
  }
  *keys(): MapIterator<string> {
    yield* this.#s.ids;
  }
  *values(): MapIterator<TaskResult> {
    for (let i = 0; i < this.#s.ids.length; i++) yield this.#at(i);
  }
  [Symbol.iterator](): MapIterator<[string, TaskResult]> {
    return this.entries();
  }
  forEach(callback: (value: TaskResult, key: string, map: ReadonlyMap<string, TaskResult>) => void, thisArg?: unknown): void {
    for (const [id, result] of this.entries()) callback.call(thisArg, result, id, this);
  }
  get [Symbol.toStringTag](): string {
    return "TaskResults";
  }
}

export function buildResult(s: FinalState): RunResult<any> {
  const counts = { succeeded: 0, failed: 0, cancelled: 0, skipped: 0 };
  for (const st of s.state) counts[STATUS[st]!]++;
  return {
    job: s.job,
    status: s.status,
    tasks: new TaskResultsView(s),
    error: s.error,
    counts,
    startedAt: s.runStartedAt,
    finishedAt: s.runFinishedAt,
    durationMs: s.runFinishedAt - s.runStartedAt,
    output: (id: string) => {
      const i = s.index.get(id);
      return i !== undefined && s.state[i] === SUCCEEDED ? s.outputs[i] : undefined;
    },
  };
}
