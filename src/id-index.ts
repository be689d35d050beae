/**
 * Task ids to task indices: an open-addressing hash table in one Int32Array, beside the ids array it
 * indexes. It replaces a `Map<string, number>` on the builder's hot path: each new key of a growing
 * Map costs about ten lookups (its table is a heap object the garbage collector copies as it grows;
 * bench/README.md, "The builder"), while this table is flat numbers, grows by doubling, and rehashes
 * from stored hashes without reading a string.
 *
 * Slots are pairs [hash, index + 1] (0 = empty), probed linearly, at most half full. The hash is not
 * seeded (src/ takes no randomness outside the runtime), so ids could be chosen to collide: a probe
 * longer than PROBE_LIMIT, which random hashes essentially never reach, moves the index to a Map
 * (V8 seeds its own string hash) for good, so the worst case is a Map's.
 */
const PROBE_LIMIT = 128;

/**
 * The hash of a string: FNV-1a over its UTF-16 code units, then murmur3's finaliser, cut to 30 bits so
 * it stays a small integer (V8 boxes a larger one when passing it around).
 */
export function hashId(id: string): number {
  let h = 0x811c9dc5 ^ id.length;
  for (let k = 0; k < id.length; k++) h = Math.imul(h ^ id.charCodeAt(k), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) & 0x3fffffff;
}

export class IdIndex {
  /**
   * An index that lives as long as the class. V8 holds an instance's hidden class only through live
   * instances: when a full GC finds no index alive (between two jobs), the hidden class goes, and with
   * it the optimised code of everything that reads an index, re-learnt by the next job at a cost.
   */
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: read by nobody on purpose: it only keeps the hidden class alive (see above)
  static readonly #keepShape: IdIndex = new IdIndex();

  /** The ids in insertion order: index i is task i. Shared with the graph (`JobGraph.ids`); append through `add` only. */
  readonly ids: string[];
  /** hashes[i] = hashId(ids[i]), for growing and copying without rehashing strings. */
  #hashes: Int32Array;
  /** Slot s is table[2s] (the hash) and table[2s + 1] (index + 1, or 0 when empty). */
  #table: Int32Array;
  /** Slots - 1 (slots are a power of two). */
  #mask: number;
  /** Set once a probe ran too long: from then on the index is this Map, and the table is unused. */
  #map: Map<string, number> | undefined = undefined;

  constructor(ids: string[] = [], hashes?: Int32Array) {
    this.ids = ids;
    const n = ids.length;
    let slots = 16;
    while (slots < 2 * (n + 1)) slots *= 2;
    this.#mask = slots - 1;
    this.#table = new Int32Array(2 * slots);
    this.#hashes = new Int32Array(Math.max(16, n));
    for (let i = 0; i < n; i++) this.#hashes[i] = hashes === undefined ? hashId(ids[i]!) : hashes[i]!;
    for (let i = 0; i < n && this.#map === undefined; i++) this.#place(this.#hashes[i]!, i);
  }

  /** Tasks indexed. */
  get size(): number {
    return this.ids.length;
  }

  /** The index of `id`, or undefined (also for a value that is not a string). */
  get(id: unknown): number | undefined {
    if (typeof id !== "string") return undefined;
    const i = this.indexOf(id);
    return i < 0 ? undefined : i;
  }

  has(id: unknown): boolean {
    return typeof id === "string" && this.indexOf(id) >= 0;
  }

  /** The index of `id`, or -1. */
  indexOf(id: string): number {
    return this.find(id, hashId(id));
  }

  /** The index of `id` given its hash (`hashId(id)`), or -1. */
  find(id: string, hash: number): number {
    if (this.#map !== undefined) return this.#map.get(id) ?? -1;
    const t = this.#table;
    const mask = this.#mask;
    for (let s = hash & mask, probes = 0; ; s = (s + 1) & mask) {
      const v = t[2 * s + 1]!;
      if (v === 0) return -1;
      if (t[2 * s] === hash && this.ids[v - 1] === id) return v - 1;
      if (++probes > PROBE_LIMIT) {
        this.#spill();
        return this.find(id, hash);
      }
    }
  }

  /** Appends `id` (absent; `hash` = hashId(id)) as the next index, which it returns. */
  add(id: string, hash: number): number {
    const i = this.ids.length;
    this.ids.push(id);
    if (i === this.#hashes.length) {
      const hashes = new Int32Array(2 * i);
      hashes.set(this.#hashes);
      this.#hashes = hashes;
    }
    this.#hashes[i] = hash;
    if (this.#map !== undefined) this.#map.set(id, i);
    else if (2 * (i + 1) > this.#mask + 1) this.#grow();
    else this.#place(hash, i);
    return i;
  }

  /** Removes the last id added (and returns it). */
  removeLast(): string {
    const i = this.ids.length - 1;
    const id = this.ids.pop()!;
    if (this.#map !== undefined) {
      this.#map.delete(id);
      return id;
    }
    const t = this.#table;
    const mask = this.#mask;
    let hole = this.#hashes[i]! & mask;
    while (t[2 * hole + 1] !== i + 1) hole = (hole + 1) & mask;
    // Backward-shift deletion: move later entries of the run into the hole when their home slot
    // allows it, so every remaining entry stays reachable from its home without tombstones.
    for (let q = (hole + 1) & mask; t[2 * q + 1] !== 0; q = (q + 1) & mask) {
      const home = t[2 * q]! & mask;
      if (((q - home) & mask) >= ((q - hole) & mask)) {
        t[2 * hole] = t[2 * q]!;
        t[2 * hole + 1] = t[2 * q + 1]!;
        hole = q;
      }
    }
    t[2 * hole] = 0;
    t[2 * hole + 1] = 0;
    return id;
  }

  /** An index of the first `count` ids (a new ids array; hashes are reused, not recomputed). */
  copy(count: number): IdIndex {
    return new IdIndex(this.ids.slice(0, count), this.#hashes);
  }

  #place(hash: number, i: number): void {
    const t = this.#table;
    const mask = this.#mask;
    let s = hash & mask;
    for (let probes = 0; t[2 * s + 1] !== 0; s = (s + 1) & mask) {
      if (++probes > PROBE_LIMIT) {
        this.#spill();
        return;
      }
    }
    t[2 * s] = hash;
    t[2 * s + 1] = i + 1;
  }

  #grow(): void {
    const slots = 2 * (this.#mask + 1);
    const mask = slots - 1;
    const t = new Int32Array(2 * slots);
    const hashes = this.#hashes;
    const n = this.ids.length;
    // #place's loop, inline: this runs for every id at each doubling, often before it is optimised.
    for (let i = 0; i < n; i++) {
      const hash = hashes[i]!;
      let s = hash & mask;
      for (let probes = 0; t[2 * s + 1] !== 0; s = (s + 1) & mask) {
        if (++probes > PROBE_LIMIT) {
          this.#spill();
          return;
        }
      }
      t[2 * s] = hash;
      t[2 * s + 1] = i + 1;
    }
    this.#mask = mask;
    this.#table = t;
  }

  /** Moves every id to a Map (ids chosen to collide, or astronomically bad luck). */
  #spill(): void {
    const map = new Map<string, number>();
    for (let i = 0; i < this.ids.length; i++) map.set(this.ids[i]!, i);
    this.#map = map;
    this.#table = new Int32Array(0);
    this.#mask = 0;
  }
}
