/** Small helpers shared by the test files: explicit signals instead of sleeps. */
import assert from "node:assert/strict";
import { mock } from "node:test";
import type { ProviderNode, TaskContext } from "../src/index.ts";
import { ScheduleFailure } from "../src/testing/index.ts";

/** A promise with its resolve function outside, to release a task body from the test. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued promise callback run (one real macrotask; the testing kit's own yield). */
export { macrotask as flush } from "../src/testing/macrotask.ts";

/** The ScheduleFailure an exploration or replay rejects with (the test fails if it resolves or rejects otherwise). */
export async function scheduleFailureOf(promise: Promise<unknown>): Promise<ScheduleFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof ScheduleFailure, `expected a ScheduleFailure, got ${String(error)}`);
  return error;
}

/** A body that never settles until its signal aborts, then rejects with the signal's reason. */
export function untilAborted({ signal }: { signal: AbortSignal }): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
}

/**
 * A task context as a run gives one, for calling a provider's `run` by hand: task "t", attempt 1, a
 * signal never aborted, no dependencies, `sleep` resolving at once; `fields` replace any of them.
 */
export function taskContext(node: ProviderNode, fields: Partial<TaskContext<any>> = {}): TaskContext<any> {
  return {
    taskId: "t",
    attempt: 1,
    signal: new AbortController().signal,
    deps: {},
    failures: {},
    node,
    sleep: () => Promise.resolve(),
    log: () => {},
    onAbort: () => () => {},
    ...fields,
  };
}

/**
 * Errors the engine reported as unhandled rejections (a throwing listener, a broken runtime), caught
 * here instead of failing the test: the rejected promises made while the mock is on are handled and
 * recorded. The caller ends it with `mock.restoreAll()`.
 */
export function catchReported(): unknown[] {
  const reported: unknown[] = [];
  const real = Promise.reject;
  mock.method(Promise, "reject", (error: unknown) => {
    reported.push(error);
    const rejected = real.call(Promise, error);
    rejected.catch(() => {});
    return rejected;
  });
  return reported;
}
