/**
 * A coordinator crash at every step of a small job, under explore(): the run is stopped dead at a
 * random event (what its journal made durable by then is all that survives), then the same job resumes
 * from that journal. Checked each schedule: a task whose success was durable never runs again, every
 * task ends succeeded, and every output is the one an uninterrupted run gives.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Job, type Journal, type JournalRecord, type Runtime, start } from "../src/index.ts";
import { RUN_EVENT_NAMES } from "../src/events.ts";
import { type ExploreContext, explore } from "../src/testing/index.ts";
import { readEnv } from "../src/testing/env.ts";

const ITERATIONS = Number(readEnv("FLOTILLA_JOURNAL_ITERATIONS") ?? 500);

/**
 * A journal whose appends take a while (virtual time) before they are durable, as an fsync does: a
 * crash between a task's end and its record's fsync loses the record, as on a real disk.
 */
class DiskModel implements Journal {
  readonly name = "disk model";
  /** What survives a crash: the records of appends that finished. */
  durable: JournalRecord[];
  readonly #runtime: Runtime;
  readonly #latency: () => number;
  constructor(runtime: Runtime, latency: () => number, durable: JournalRecord[] = []) {
    this.#runtime = runtime;
    this.#latency = latency;
    this.durable = durable;
  }
  async open(): Promise<readonly JournalRecord[]> {
    return this.durable.slice();
  }
  append(records: readonly JournalRecord[]): Promise<void> {
    return new Promise((resolve) =>
      this.#runtime.setTimer(this.#latency(), () => {
        this.durable.push(...records);
        resolve();
      }),
    );
  }
  async close(): Promise<void> {}
}

/** a -> (b, c, d) -> e -> f, and g alone; b fails its first attempt. Outputs depend on the inputs. */
function smallJob(t: ExploreContext, runs: Map<string, number>) {
  const body =
    (id: string, compute: (deps: Record<string, unknown>) => unknown, failFirst = false) =>
    async (ctx: { deps: Record<string, unknown>; attempt: number; sleep: (ms: number) => Promise<void> }) => {
      runs.set(id, (runs.get(id) ?? 0) + 1);
      await ctx.sleep(1 + Math.floor(t.random() * 20));
      if (failFirst && ctx.attempt === 1) throw new Error(`${id} fails once`);
      return compute(ctx.deps);
    };
  return new Job<Record<string, unknown>>("crashy")
    .task(
      "a",
      body("a", () => 1),
    )
    .task(
      "b",
      { dependsOn: ["a"], retries: 1, backoff: { initialMs: 3 } },
      body("b", (d) => (d.a as number) + 1, true),
    )
    .task(
      "c",
      { dependsOn: ["a"] },
      body("c", (d) => ({ n: (d.a as number) * 10 })),
    )
    .task(
      "d",
      { dependsOn: ["a"] },
      body("d", (d) => [d.a, "d"]),
    )
    .task(
      "e",
      { dependsOn: ["b", "c", "d"] },
      body("e", (d) => (d.b as number) + (d.c as { n: number }).n + (d.d as unknown[]).length),
    )
    .task(
      "f",
      { dependsOn: ["e"] },
      body("f", (d) => `f${d.e as number}`),
    )
    .task(
      "g",
      body("g", () => null),
    );
}

const EXPECTED: Record<string, unknown> = { a: 1, b: 2, c: { n: 10 }, d: [1, "d"], e: 14, f: "f14", g: null };

const succeededIn = (records: readonly JournalRecord[]) => new Set(records.flatMap((r) => (r.type === "task" && r.status === "succeeded" ? [r.id] : [])));

describe("journal: a coordinator crash at every step", () => {
  test(`${ITERATIONS} schedules, each crashed at a random event and resumed`, async () => {
    const report = await explore(
      async (t) => {
        const latency = () => 1 + Math.floor(t.random() * 10);
        // The run that crashes.
        const disk = new DiskModel(t.runtime, latency);
        const crashAt = Math.floor(t.random() * 45);
        let events = 0;
        let survived: JournalRecord[] | undefined;
        const firstRuns = new Map<string, number>();
        const first = start(smallJob(t, firstRuns), { runtime: t.runtime, concurrency: 2, journal: disk });
        const crash = () => {
          if (events++ !== crashAt || survived !== undefined) return;
          survived = disk.durable.slice(); // the process dies here: nothing else reaches the disk
          first.cancel("crash");
        };
        for (const name of RUN_EVENT_NAMES) first.on(name, crash);
        await first.result;
        survived ??= disk.durable.slice();

        // The same job resumed from what survived.
        const durableSuccesses = succeededIn(survived);
        const resumedRuns = new Map<string, number>();
        const resumed = await start(smallJob(t, resumedRuns), { runtime: t.runtime, concurrency: 2, journal: new DiskModel(t.runtime, latency, survived) })
          .result;
        for (const id of durableSuccesses) {
          assert.equal(resumedRuns.get(id), undefined, `task "${id}" was durably succeeded before the crash and ran again`);
          assert.equal(resumed.tasks.get(id)?.restored, true);
        }
        assert.equal(resumed.status, "succeeded", `resumed run ${resumed.status}: ${String(resumed.error)}`);
        for (const [id, output] of Object.entries(EXPECTED)) assert.deepEqual(resumed.output(id), output, `output of ${id}`);
      },
      { iterations: ITERATIONS, seed: 11 },
    );
    assert.equal(report.iterations, ITERATIONS);
  });
});
