/**
 * A job's dependencies by task id, read from its plan. The public `Job` does not list them (a run needs
 * no such list); the command does, to walk the critical path back through them.
 */
import { graphOf, type Job } from "../src/job.ts";
import { planOf } from "../src/plan.ts";

/** Task id -> the ids it depends on. Throws E_CYCLE or E_UNKNOWN_DEPENDENCY as a run would. */
export function dependenciesOf(job: Job<any>): ReadonlyMap<string, readonly string[]> {
  const graph = graphOf(job)!;
  const plan = planOf(graph);
  const byId = new Map<string, readonly string[]>();
  for (let i = 0; i < plan.count; i++) {
    const deps: string[] = [];
    for (let e = plan.depStart[i]!; e < plan.depStart[i + 1]!; e++) deps.push(graph.ids[plan.deps[e]!]!);
    byId.set(graph.ids[i]!, deps);
  }
  return byId;
}
