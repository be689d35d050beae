// A hand-rolled Kahn executor on p-queue@9: in-degree counters; when a task finishes, its
// dependents are decremented and those reaching zero are queue.add()-ed; the run waits with
// queue.onIdle() (every task is added before the task that unblocks it settles, so the queue
// cannot go idle early). p-queue awaits every task, so a synchronous body still costs a promise.
import { kahnGraph } from "./kahn-graph.mjs";
import PQueue from "p-queue";

/** Builds the graph from a spec ({ ids, deps }) and runs `body` once per task. Resolves to the number of tasks run. */
export async function runPQueue(spec, body, concurrency) {
  const { n, indegree, dependents } = kahnGraph(spec);

  const queue = new PQueue({ concurrency });
  let done = 0;
  let error;
  const onError = (e) => {
    error ??= e;
    queue.clear();
  };
  const schedule = (i) => {
    queue
      .add(async () => {
        await body(i);
        done++;
        const ds = dependents[i];
        if (ds !== null) for (let k = 0; k < ds.length; k++) if (--indegree[ds[k]] === 0) schedule(ds[k]);
      })
      .catch(onError);
  };
  for (let i = 0; i < n; i++) if (indegree[i] === 0) schedule(i);
  await queue.onIdle();
  if (error !== undefined) throw error;
  if (done !== n) throw new Error(`cycle: ${n - done} tasks never became ready`);
  return done;
}
