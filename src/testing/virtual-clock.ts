/**
 * The testing kit's one virtual clock: the time, the timers ordered by due time then by the order
 * they were set, and the sequence that orders (and names) everything that happens at one virtual
 * moment. Both of the kit's runtimes are built on it and differ only in who moves it forward:
 * `virtualRuntime` fires the earliest timer whenever the program is idle (`takeNext`), while the
 * controlled runtime of `explore()` takes every timer due at the earliest time at once (`takeDue`)
 * and lets its strategy choose which to run. Time never moves otherwise, and never backwards.
 */
import { timerLabel } from "../trace-labels.ts";

/** In the clock's heap, waiting for its due time. */
export const PENDING = 0;
/** Taken out of the clock as due (`takeDue`, `dueNow`): the clock's driver runs it, or drops it when it is cleared. */
export const DUE = 1;
/** Ran, or cleared. */
export const DONE = 2;

/** Where an entry is: pending in the clock, due (handed to the clock's driver), or done. */
export type EntryState = typeof PENDING | typeof DUE | typeof DONE;

/**
 * A timer, or (`timer: false`) an event that came due at once (a deferred completion). It is the
 * handle `setTimer` returns: opaque to users.
 */
export class ClockEntry {
  state: EntryState;
  /** The pct strategy's cache of this event's actor priority, valid in epoch `priorityEpoch` (strategies.ts). */
  priority = 0;
  priorityEpoch = 0;
  constructor(
    readonly clock: VirtualClock,
    readonly seq: number,
    readonly due: number,
    /** The name traces give it: the label the timer was set with, or `timer <seq>`. */
    readonly label: string,
    readonly run: () => void,
    readonly timer: boolean,
  ) {
    this.state = timer ? PENDING : DUE;
  }
}

export class VirtualClock {
  #now: number;
  #seq = 0;
  #pending = 0;
  /** A binary heap by (due, seq); a cleared entry stays in it until it comes up, then is skipped. */
  readonly #heap: ClockEntry[] = [];

  constructor(startAt = 0) {
    this.#now = startAt;
  }

  now(): number {
    return this.#now;
  }

  /** Timers set and neither taken out nor cleared. */
  get pending(): number {
    return this.#pending;
  }

  /** Sets a timer due `ms` from now (at once for a negative delay); an unlabelled one is named by its sequence number. */
  setTimer(ms: number, run: () => void, label?: string): ClockEntry {
    const seq = this.#seq++;
    const entry = new ClockEntry(this, seq, this.#now + Math.max(0, ms), label ?? timerLabel(seq), run, true);
    heapPush(this.#heap, entry);
    this.#pending++;
    return entry;
  }

  /**
   * An event due now that never waits in the heap (a deferred completion): it takes a sequence
   * number like a timer, so the numbering of unlabelled timers does not depend on who asks.
   */
  dueNow(label: string, run: () => void): ClockEntry {
    return new ClockEntry(this, this.#seq++, this.#now, label, run, false);
  }

  /**
   * Clears a timer of this clock; harmless for anything else. Returns the state it was in, so that
   * the owner of a due entry can drop it from its list (DONE: nothing to do).
   */
  clearTimer(handle: unknown): EntryState {
    if (!(handle instanceof ClockEntry) || handle.clock !== this || !handle.timer) return DONE;
    const was = handle.state;
    if (was === PENDING) this.#pending--;
    handle.state = DONE;
    return was;
  }

  /** Marks a due entry as run (the driver calls it just before running the entry). */
  done(entry: ClockEntry): void {
    entry.state = DONE;
  }

  /** Takes the earliest pending timer, moving the clock to its due time, and marks it done; undefined when none is pending. */
  takeNext(): ClockEntry | undefined {
    const first = this.#first();
    if (first === undefined) return undefined;
    heapPop(this.#heap);
    this.#advanceTo(first.due);
    this.#pending--;
    first.state = DONE;
    return first;
  }

  /**
   * Moves the clock to the earliest pending timer's due time and appends every timer due then to
   * `into`, in the order they were set, marked due; false when no timer is pending.
   */
  takeDue(into: ClockEntry[]): boolean {
    const first = this.#first();
    if (first === undefined) return false;
    const due = first.due;
    this.#advanceTo(due);
    const heap = this.#heap;
    while (heap.length > 0 && (heap[0]!.state === DONE || heap[0]!.due === due)) {
      const entry = heapPop(heap)!;
      if (entry.state === DONE) continue;
      entry.state = DUE;
      this.#pending--;
      into.push(entry);
    }
    return true;
  }

  /** Labels of the pending timers (in heap order). */
  pendingLabels(): string[] {
    const labels: string[] = [];
    for (const entry of this.#heap) if (entry.state === PENDING) labels.push(entry.label);
    return labels;
  }

  /** The earliest pending timer, after dropping cleared ones from the top of the heap. */
  #first(): ClockEntry | undefined {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0]!.state === DONE) heapPop(heap);
    return heap[0];
  }

  #advanceTo(due: number): void {
    if (due > this.#now) this.#now = due;
  }
}

function before(a: ClockEntry, b: ClockEntry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

function heapPush(heap: ClockEntry[], entry: ClockEntry): void {
  let i = heap.length;
  heap.push(entry);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(entry, heap[parent]!)) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = entry;
}

function heapPop(heap: ClockEntry[]): ClockEntry | undefined {
  const top = heap[0];
  const last = heap.pop()!;
  if (heap.length > 0) {
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && before(heap[child + 1]!, heap[child]!)) child++;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
  return top;
}
