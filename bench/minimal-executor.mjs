// The floor: a minimal hand-written DAG executor with no features (no retries, events,
// cancellation or results). Tasks are integer indices, in-degrees an Int32Array, dependents
// arrays of ints, a LIFO ready stack and a concurrency limit. It calls each body with its index;
// a thenable result is awaited with .then, anything else completes synchronously (flotilla's rule).
import { kahnGraph } from "./kahn-graph.mjs";

/** Builds the graph from a spec ({ ids, deps }) and runs `body` once per task. Resolves to the number of tasks run. */
export function runMinimal(spec, body, concurrency) {
  const { n, indegree, dependents } = kahnGraph(spec);
  const ready = [];
  for (let i = n - 1; i >= 0; i--) if (indegree[i] === 0) ready.push(i);

  return new Promise((resolve, reject) => {
    let running = 0;
    let done = 0;
    let failed = false;
    const fail = (error) => {
      failed = true;
      reject(error);
    };
    // Marks task i done and pushes the dependents it unblocks.
    const release = (i) => {
      running--;
      done++;
      const ds = dependents[i];
      if (ds !== null) for (let k = 0; k < ds.length; k++) if (--indegree[ds[k]] === 0) ready.push(ds[k]);
    };
    const pump = () => {
      while (running < concurrency && ready.length > 0 && !failed) {
        const i = ready.pop();
        running++;
        let r;
        try {
          r = body(i);
        } catch (error) {
          return fail(error);
        }
        if (r !== null && (typeof r === "object" || typeof r === "function") && typeof r.then === "function") {
          r.then(() => {
            release(i);
            pump();
          }, fail);
        } else {
          release(i); // synchronous body: no promise, no microtask
        }
      }
      if (running === 0 && ready.length === 0 && !failed) {
        if (done === n) resolve(done);
        else fail(new Error(`cycle: ${n - done} tasks never became ready`));
      }
    };
    pump();
  });
}
