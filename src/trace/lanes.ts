/**
 * Rows of a timeline: a span claims the lowest-numbered free lane of its set and releases it when it
 * ends, so spans on one lane never overlap and the number of lanes is the most that were busy at once.
 * Each lane is a thread of the trace (`tid`, numbered across the whole trace so no two processes share
 * one). The free lanes are kept in a min-heap: a node with thousands of lanes stays cheap.
 */
export interface Lane<T> {
  readonly tid: number;
  /** 1-based: the lane's number within its set ("slot 1", "nodes 2"). */
  readonly number: number;
  occupant: T | undefined;
}

export class LaneSet<T> {
  readonly lanes: Lane<T>[] = [];
  /** Free lanes, lowest number on top. */
  readonly #free: Lane<T>[] = [];
  readonly #newTid: () => number;

  constructor(newTid: () => number) {
    this.#newTid = newTid;
  }

  /** Takes the lowest-numbered free lane (a new one when every lane is busy); the caller sets its occupant at once. */
  claim(): Lane<T> {
    return this.#popFree() ?? this.#add();
  }

  /** Frees `lane` (nothing happens if it is free already). */
  release(lane: Lane<T>): void {
    if (lane.occupant === undefined) return;
    lane.occupant = undefined;
    const heap = this.#free;
    let i = heap.push(lane) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.number <= lane.number) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = lane;
  }

  /** The first lane, made if there is none yet (where a set's own marks go). */
  first(): Lane<T> {
    if (this.lanes.length === 0) this.#free.push(this.#add());
    return this.lanes[0]!;
  }

  #add(): Lane<T> {
    const lane: Lane<T> = { tid: this.#newTid(), number: this.lanes.length + 1, occupant: undefined };
    this.lanes.push(lane);
    return lane;
  }

  #popFree(): Lane<T> | undefined {
    const heap = this.#free;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && heap[right]!.number < heap[left]!.number ? right : left;
        if (heap[child]!.number >= last.number) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}
