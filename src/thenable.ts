/**
 * The one "is it a promise?" check of core: a value is a thenable when it is an object or a function
 * with a callable `then` (the Promises/A+ rule), whatever its class or realm.
 */

/** The `then` method of a thenable, or undefined for any other value. Reads `then` once; a `then` getter may throw. */
export function thenOf(value: unknown): PromiseLike<unknown>["then"] | undefined {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return undefined;
  const then = (value as PromiseLike<unknown>).then;
  return typeof then === "function" ? then : undefined;
}
