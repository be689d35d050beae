/**
 * Every random choice a simulated cloud makes, from its one random source (its own seed, or the
 * runtime's). A draw is made only where a choice exists (a rate above 0, a range wider than one
 * value), so a cloud that injects nothing takes no numbers from the program's stream.
 */
import type { Range } from "./simulated-cloud-options.ts";

const MS_PER_HOUR = 3_600_000;

export class Draws {
  readonly #random: () => number;

  constructor(random: () => number) {
    this.#random = random;
  }

  /** An integer in `min..max`, uniformly. */
  ms(range: Range): number {
    return range.min === range.max ? range.min : range.min + Math.floor(this.#random() * (range.max - range.min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p >= 1 || (p > 0 && this.#random() < p);
  }

  /** Milliseconds to the next event of a Poisson process of `perHour` events an hour (exponentially distributed, whole ms). */
  timeToEvent(perHour: number): number {
    return Math.round((-Math.log(1 - this.#random()) * MS_PER_HOUR) / perHour);
  }
}
