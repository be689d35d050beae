import { expectAssignable, expectError, expectType } from "tsd";
import { Job, memoryJournal, run, start, type Journal, type JournalRecord, type MemoryJournal, type TaskResult } from "flotilla";

const journal = memoryJournal();
expectType<MemoryJournal>(journal);
expectAssignable<Journal>(journal);
expectType<readonly JournalRecord[]>(journal.records());

const job = new Job("j").task("a", () => 1);
const result = await run(job, { journal, trace: true });
expectType<true | undefined>(result.tasks.get("a").restored);
expectAssignable<TaskResult>(result.tasks.get("a"));

// A journal of one's own: three methods and a name.
const mine: Journal = {
  name: "mine",
  open: async () => [],
  append: async (records) => {
    for (const r of records) {
      if (r.type === "task") expectType<"succeeded" | "failed" | "cancelled" | "skipped">(r.status);
    }
  },
  close: async () => {},
};
start(job, { journal: mine }).on("task:succeeded", (e) => expectType<true | undefined>(e.restored));
start(job).on("task:start", (e) => {
  expectType<string>(e.nodeId);
  expectType<string>(e.pool);
  expectType<number>(e.slots);
});

expectError(run(job, { journal: { name: "x" } }));
expectError(run(job, { trace: "yes" }));
