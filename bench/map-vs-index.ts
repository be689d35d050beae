// Why the builder indexes ids in src/id-index.ts, not a Map: ns per operation for n ids ("t0", "t1", ...),
// inserting n new keys into an empty structure and looking each one up, in one process.
//   node --import tsx bench/map-vs-index.ts [n] [rounds]
import { IdIndex, hashId } from "../src/id-index.ts";
const n = Number(process.argv[2] ?? 10000);
const ids = Array.from({ length: n }, (_, i) => "t" + i);
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const full = new Map(ids.map((x, i) => [x, i]));
const idx = new IdIndex();
for (const x of ids) idx.add(x, hashId(x));
const M: Record<string, () => unknown> = {
  "Map.set (new keys)": () => {
    const m = new Map();
    for (let i = 0; i < n; i++) m.set(ids[i], i);
    return m;
  },
  "Map.get": () => {
    let s = 0;
    for (let i = 0; i < n; i++) s += full.get(ids[i]!)!;
    return s;
  },
  "IdIndex.add (new ids)": () => {
    const t = new IdIndex();
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      t.add(id, hashId(id));
    }
    return t;
  },
  "IdIndex.indexOf": () => {
    let s = 0;
    for (let i = 0; i < n; i++) s += idx.indexOf(ids[i]!);
    return s;
  },
};
const t: Record<string, number[]> = Object.fromEntries(Object.keys(M).map((k) => [k, []]));
const R = Number(process.argv[3] ?? 40);
for (let r = 0; r < R; r++)
  for (const k of Object.keys(M)) {
    const s = performance.now();
    M[k]!();
    t[k]!.push(performance.now() - s);
  }
console.log(
  `${n} ids:`,
  Object.entries(t)
    .map(([k, v]) => `${k} ${((med(v.slice(R >> 2)) * 1e6) / n).toFixed(0)} ns`)
    .join(" | "),
);
