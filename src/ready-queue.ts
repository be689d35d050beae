/**
 * The ready queue: tasks ordered by effective priority (higher first), then longest remaining path to
 * a sink (longer first), then insertion order. Keys live in the executor's arrays; the queue stores
 * only indices, so a push or pop allocates nothing.
 *
 * Two structures share the work: a sorted run (a FIFO that takes every push that sorts after its last
 * element — the common case, since tasks that become ready together usually share their keys and
 * arrive in insertion order, as a fan-out's do) and a binary heap for the rest. A pop takes the
 * earlier of the two heads, so a wide fan-out costs O(1) per task instead of O(log n).
 */
export class ReadyQueue {
  /** A queue that lives as long as the class, so its hidden class survives a full GC between runs (see IdIndex). */
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: read by nobody on purpose: it only keeps the hidden class alive (see above)
  static readonly #keepShape: ReadyQueue = new ReadyQueue(new Float64Array(0), new Int32Array(0));

  #heap: number[] = [];
  #run: number[] = [];
  #head = 0; // first unread entry of #run
  #priority: ArrayLike<number>;
  #rank: ArrayLike<number>;

  constructor(priority: ArrayLike<number>, rank: ArrayLike<number>) {
    this.#priority = priority;
    this.#rank = rank;
  }

  /** Points the queue at the key arrays again after the task table grew. */
  rekey(priority: ArrayLike<number>, rank: ArrayLike<number>): void {
    this.#priority = priority;
    this.#rank = rank;
  }

  get size(): number {
    return this.#heap.length + this.#run.length - this.#head;
  }

  /** True when task a should start before task b. */
  #before(a: number, b: number): boolean {
    const pa = this.#priority[a]!;
    const pb = this.#priority[b]!;
    if (pa !== pb) return pa > pb;
    const ra = this.#rank[a]!;
    const rb = this.#rank[b]!;
    return ra !== rb ? ra > rb : a < b;
  }

  push(task: number): void {
    const run = this.#run;
    if (this.#head === run.length || this.#before(run[run.length - 1]!, task)) {
      run.push(task);
      return;
    }
    const heap = this.#heap;
    let i = heap.length;
    heap.push(task);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!this.#before(task, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = task;
  }

  /** Removes and returns the first task, or -1 when empty. */
  pop(): number {
    const run = this.#run;
    const heap = this.#heap;
    const fromRun = this.#head < run.length;
    if (fromRun && (heap.length === 0 || this.#before(run[this.#head]!, heap[0]!))) {
      const task = run[this.#head++]!;
      if (this.#head === run.length) {
        // Drained: start the next run from an empty array (and let the old one go).
        this.#run = [];
        this.#head = 0;
      }
      return task;
    }
    const n = heap.length;
    if (n === 0) return -1;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (n > 1) this.#siftDown(0, last);
    return top;
  }

  #siftDown(start: number, task: number): void {
    const heap = this.#heap;
    const n = heap.length;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.#before(heap[right]!, heap[child]!)) child = right;
      const c = heap[child]!;
      if (!this.#before(c, task)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = task;
  }

  /** Restores order after keys of queued tasks changed (rare: a task added to a running job). */
  reorder(): void {
    const heap = this.#heap;
    for (let k = this.#head; k < this.#run.length; k++) heap.push(this.#run[k]!);
    this.#run = [];
    this.#head = 0;
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) this.#siftDown(i, heap[i]!);
  }
}
