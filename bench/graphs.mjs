// Benchmark graphs: seeded, deterministic DAG specifications shared by every executor.
// A spec is plain data: { ids: string[], deps: string[][] } where deps[i] lists the ids task i
// depends on. Ids are "t0", "t1", ...; every dependency comes earlier in `ids` (insertion order).

export const SHAPES = ["chain", "fanout", "layered"];

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NO_DEPS = Object.freeze([]);

/** Builds the spec of `shape` with `n` tasks (n >= 3), the same for the same (shape, n, seed). */
export function makeGraph(shape, n, seed = 42) {
  const ids = new Array(n);
  for (let i = 0; i < n; i++) ids[i] = "t" + i;
  const deps = new Array(n);
  deps[0] = NO_DEPS;
  if (shape === "chain") {
    // t0 <- t1 <- t2 ...: each task depends on the previous one.
    for (let i = 1; i < n; i++) deps[i] = [ids[i - 1]];
  } else if (shape === "fanout") {
    // One root, n-2 middle tasks on the root, one sink on all middle tasks.
    for (let i = 1; i < n - 1; i++) deps[i] = [ids[0]];
    deps[n - 1] = ids.slice(1, n - 1);
  } else if (shape === "layered") {
    // Layers of ~sqrt(n) tasks; each task after layer 0 depends on 2 distinct random tasks
    // of earlier layers: 80% of picks from the previous layer, 20% from any earlier layer.
    const rand = mulberry32(seed);
    const width = Math.max(2, Math.round(Math.sqrt(n)));
    for (let i = 1; i < n; i++) {
      const layerStart = i - (i % width);
      if (layerStart === 0) {
        deps[i] = NO_DEPS;
        continue;
      }
      const prevStart = layerStart - width;
      const pick = () => (rand() < 0.8 ? prevStart + Math.floor(rand() * width) : Math.floor(rand() * layerStart));
      const a = pick();
      let b = pick();
      while (b === a) b = pick();
      deps[i] = [ids[a], ids[b]];
    }
  } else {
    throw new Error(`unknown shape "${shape}" (expected one of ${SHAPES.join(", ")})`);
  }
  return { ids, deps };
}
