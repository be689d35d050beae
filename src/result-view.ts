/**
 * The run result. Task outcomes are a read-only Map view over the run's final task table: a
 * TaskResult object is built when asked for, so a million-task run does not allocate a million
 * result objects nobody reads.
 */
import { messageOf } from "./errors.ts";
import type { PoolRunStats } from "./pool-stats.ts";
import type { JobStatus, RunResult, TaskResult, TaskResults, TaskStatus } from "./result.ts";
import { STATE_NAMES, SUCCEEDED } from "./task-state.ts";
import type { TaskTable } from "./task-table.ts";

const STATUS = STATE_NAMES as readonly string[] as readonly TaskStatus[];

class TaskResultsView implements TaskResults<any> {
  readonly #t: TaskTable;
  constructor(table: TaskTable) {
    this.#t = table;
  }
  get size(): number {
    return this.#t.count;
  }
  has(id: string): boolean {
    return this.#t.indexOf(id) !== undefined;
  }
  get(id: string): TaskResult<any> {
    const i = this.#t.indexOf(id);
    return (i === undefined ? undefined : this.#at(i)) as TaskResult<any>;
  }
  #at(i: number): TaskResult {
    const t = this.#t;
    const startedAt = t.startedAt[i]!;
    const finishedAt = t.finishedAt[i]!;
    const result: TaskResult = {
      status: STATUS[t.state[i]!]!,
      attempts: t.attempts[i]!,
      output: t.outputs[i],
      error: t.errors[i],
      startedAt: Number.isNaN(startedAt) ? undefined : startedAt,
      finishedAt: Number.isNaN(finishedAt) ? undefined : finishedAt,
    };
    return t.restored?.has(i) ? { ...result, restored: true } : result;
  }
  *entries(): MapIterator<[string, TaskResult]> {
    const ids = this.#t.graph.ids;
    for (let i = 0; i < this.#t.count; i++) yield [ids[i]!, this.#at(i)];
  }
  *keys(): MapIterator<string> {
    const ids = this.#t.graph.ids;
    for (let i = 0; i < this.#t.count; i++) yield ids[i]!;
  }
  *values(): MapIterator<TaskResult> {
    for (let i = 0; i < this.#t.count; i++) yield this.#at(i);
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
  /** `JSON.stringify(result)` gives every task: `{ "<id>": { status, attempts, output, error, ... } }`. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [id, task] of this.entries()) {
      Object.defineProperty(out, id, { value: { ...task, error: errorJson(task.error) }, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  // `console.log(result)` shows the entries, as for a Map. (Deno's console honours Node's inspect key
  // too, and it is a Symbol.for key: nothing here depends on the runtime.)
  [Symbol.for("nodejs.util.inspect.custom")](_depth: number, options: unknown, inspect: (value: unknown, options: unknown) => string): string {
    return inspect(new Map(this.entries()), options);
  }
}

/**
 * An error as JSON shows it: an Error as its name, message and code (its own fields are not
 * enumerable); any other thrown value as itself when JSON can write it, else as its description.
 * Never throws, whatever the value's getters do.
 */
export function errorJson(error: unknown): unknown {
  try {
    if (error instanceof Error) {
      const { name } = error;
      const code = (error as { code?: unknown }).code;
      const message = messageOf(error);
      return code === undefined ? { name, message } : { name, code, message };
    }
    if (error === undefined) return undefined;
    return JSON.parse(JSON.stringify(error)) as unknown;
  } catch {
    return messageOf(error);
  }
}

export function buildResult(
  table: TaskTable,
  run: { job: string; status: JobStatus; error: unknown; startedAt: number; finishedAt: number; pools: Record<string, PoolRunStats> },
): RunResult<any> {
  const counts = { succeeded: 0, failed: 0, cancelled: 0, skipped: 0 };
  for (let i = 0; i < table.count; i++) counts[STATUS[table.state[i]!] as keyof typeof counts]++;
  return {
    job: run.job,
    status: run.status,
    tasks: new TaskResultsView(table),
    error: run.error,
    counts,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    durationMs: run.finishedAt - run.startedAt,
    pools: run.pools,
    toJSON() {
      return { ...this, error: errorJson(this.error) };
    },
    output: (id: string) => {
      const i = table.indexOf(id);
      return i !== undefined && table.state[i] === SUCCEEDED ? table.outputs[i] : undefined;
    },
  };
}
