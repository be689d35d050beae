// The graph structures both hand-written executors build from a spec (inside their timed
// region): ids mapped to indices through a Map, in-degrees in an Int32Array, dependents as
// arrays of ints.

/** Builds { n, indegree, dependents } from a spec ({ ids, deps }). */
export function kahnGraph(spec) {
  const { ids, deps } = spec;
  const n = ids.length;
  const index = new Map();
  for (let i = 0; i < n; i++) index.set(ids[i], i);
  const indegree = new Int32Array(n);
  const dependents = new Array(n).fill(null);
  for (let i = 0; i < n; i++) {
    const d = deps[i];
    for (let k = 0; k < d.length; k++) {
      const j = index.get(d[k]);
      if (j === undefined) throw new Error(`task ${ids[i]} depends on unknown task ${d[k]}`);
      indegree[i]++;
      (dependents[j] ??= []).push(i);
    }
  }
  return { n, indegree, dependents };
}
