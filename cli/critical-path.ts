/**
 * The critical path of a finished run: the chain of tasks that decided when it ended. It starts at the
 * task that finished last and walks back, at each step to the dependency that finished last (the one
 * the task was waiting for when it became ready). Only tasks that ran are on it.
 *
 * One small function on purpose: src/report/ will have a `criticalPath(trace)` the command can use instead.
 */

/** The times the path needs of a task: when its first attempt started and when it ended. */
export interface TaskTimes {
  readonly startedAt: number | undefined;
  readonly finishedAt: number | undefined;
}

/** Task ids from the first of the chain to the last to finish; empty when no task ran. */
export function criticalPath(tasks: ReadonlyMap<string, TaskTimes>, dependencies: (id: string) => readonly string[]): string[] {
  const ran = (id: string): boolean => tasks.get(id)?.startedAt !== undefined && tasks.get(id)?.finishedAt !== undefined;
  let last: string | undefined;
  for (const [id, times] of tasks) if (ran(id) && (last === undefined || times.finishedAt! > tasks.get(last)!.finishedAt!)) last = id;
  const path: string[] = [];
  const seen = new Set<string>();
  for (let id = last; id !== undefined && !seen.has(id); ) {
    path.push(id);
    seen.add(id);
    let next: string | undefined;
    for (const dep of dependencies(id)) if (ran(dep) && (next === undefined || tasks.get(dep)!.finishedAt! > tasks.get(next)!.finishedAt!)) next = dep;
    id = next;
  }
  return path.reverse();
}
