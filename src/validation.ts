/**
 * The validation helpers every part of flotilla uses — the core's options, the testing kit's and the
 * adapters' — so each bad input gets the same shape of message: where, which option, what was expected,
 * what was received, and the closest known name for a typo.
 */
import { FlotillaError, describe } from "./errors.ts";

export function invalidOption(where: string, option: string, expected: string, received: unknown): FlotillaError {
  return new FlotillaError("E_INVALID_OPTION", `${where}: option "${option}" must be ${expected}, received ${describe(received)}`);
}

/** Rejects option names that do not exist, suggesting the closest one (`concurency` -> `concurrency`). */
export function checkKnownKeys(where: string, value: object, known: readonly string[], kind = "option"): void {
  for (const key in value) {
    if (!known.includes(key)) throw unknownName(where, key, known, kind);
  }
}

/** The error for a `kind` (an option, a fault point, ...) named `name` that is not one of `known`, with the closest one as a hint. */
export function unknownName(where: string, name: string, known: readonly string[], kind = "option"): FlotillaError {
  const hint = closest(name, known);
  return new FlotillaError(
    "E_INVALID_OPTION",
    `${where}: unknown ${kind} "${name}"${hint ? ` (did you mean "${hint}"?)` : ""}; known ${kind}s: ${known.join(", ")}`,
  );
}

/**
 * The longest timer Node keeps: a longer one fires after 1 ms. The core's runtime re-arms longer
 * delays; adapters that arm real timers themselves refuse graces above it.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Checks a grace period or similar delay: milliseconds from 0 to MAX_TIMER_MS. */
export function checkDelayMs(where: string, option: string, value: unknown): void {
  if (!(typeof value === "number" && value >= 0 && value <= MAX_TIMER_MS)) {
    throw invalidOption(where, option, `a number of milliseconds from 0 to ${MAX_TIMER_MS}`, value);
  }
}

/** Checks that `options` is a plain object whose names are all `known` (E_INVALID_OPTION otherwise). */
export function checkOptionsObject(where: string, options: unknown, known: readonly string[], kind = "option"): asserts options is object {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new FlotillaError("E_INVALID_OPTION", `${where}: options must be an object, received ${describe(options)}`);
  }
  checkKnownKeys(where, options, known, kind);
}

/** The closest candidate to `word` (a typo away: edit distance up to 2, or 3 for longer words), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = word.length >= 5 ? 4 : 3;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}
