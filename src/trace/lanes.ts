/**
 * Rows of a timeline: a span takes the lowest-numbered free lane of its set and gives it back when it
 * ends, so spans on one lane never overlap and the number of lanes is the most that were busy at once.
 * Each lane is a thread of the trace (`tid`, numbered across the whole trace so no two processes share one).
 */
export interface Lane<T> {
  readonly tid: number;
  /** 1-based: the lane's number within its set ("slot 1", "nodes 2"). */
  readonly number: number;
  occupant: T | undefined;
}

export class LaneSet<T> {
  readonly lanes: Lane<T>[] = [];
  readonly #newTid: () => number;

  constructor(newTid: () => number) {
    this.#newTid = newTid;
  }

  /** The lowest-numbered free lane (a new one when every lane is busy); the caller sets its occupant. */
  lowestFree(): Lane<T> {
    let lane = this.lanes.find((l) => l.occupant === undefined);
    if (lane === undefined) {
      lane = { tid: this.#newTid(), number: this.lanes.length + 1, occupant: undefined };
      this.lanes.push(lane);
    }
    return lane;
  }

  /** The first lane, made if there is none yet (where a set's own marks go). */
  first(): Lane<T> {
    if (this.lanes.length === 0) this.lanes.push({ tid: this.#newTid(), number: 1, occupant: undefined });
    return this.lanes[0]!;
  }
}
