import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  FlotillaError,
  Job,
  memoryJournal,
  run,
  start,
  type Journal,
  type JournalJobRecord,
  type JournalRecord,
  type JournalTaskRecord,
} from "../src/index.ts";
import { childProcess, command } from "../adapters/child-process/index.ts";
import { virtualRuntime } from "../src/testing/index.ts";
import { deferred, flush, untilAborted } from "./helpers.ts";

/** A diamond with a tail: a -> (b, c) -> d -> e, counting how often each body runs. */
function countedJob(name = "diamond", gate?: Promise<void>) {
  const runs: Record<string, number> = {};
  const count = (id: string) => (runs[id] = (runs[id] ?? 0) + 1);
  const job = new Job(name)
    .task("a", () => (count("a"), 1))
    .task("b", { dependsOn: ["a"] }, ({ deps }) => (count("b"), deps.a + 1))
    .task("c", { dependsOn: ["a"] }, ({ deps }) => (count("c"), { list: [deps.a, "c"] }))
    .task("d", { dependsOn: ["b", "c"] }, async ({ deps, signal }) => {
      count("d");
      if (gate !== undefined) await Promise.race([gate, untilAborted({ signal })]);
      return deps.b + deps.c.list.length;
    })
    .task("e", { dependsOn: ["d"] }, ({ deps }) => (count("e"), `e${deps.d}`));
  return { job, runs };
}

const taskRecords = (records: readonly JournalRecord[]) => records.filter((r): r is JournalTaskRecord => r.type === "task");

describe("journal and resume", () => {
  it("resumes: succeeded tasks are restored with their outputs, the rest run, the result is an uninterrupted run's", async () => {
    const journal = memoryJournal();
    const gate = deferred();
    const first = countedJob("diamond", gate.promise);
    const handle = start(first.job, { journal });
    handle.on("task:start", (e) => {
      if (e.taskId === "d") handle.cancel("stop half-way");
    });
    const interrupted = await handle.result;
    assert.equal(interrupted.status, "cancelled");
    assert.deepEqual(
      taskRecords(journal.records()).map((r) => [r.id, r.status]),
      [
        ["a", "succeeded"],
        ["b", "succeeded"],
        ["c", "succeeded"],
        ["d", "cancelled"],
        ["e", "cancelled"],
      ],
    );

    const second = countedJob();
    const restored: string[] = [];
    const resumed = start(second.job, { journal });
    resumed.on("task:succeeded", (e) => {
      if (e.restored) restored.push(e.taskId);
    });
    const result = await resumed.result;
    assert.equal(result.status, "succeeded");
    assert.deepEqual(restored.sort(), ["a", "b", "c"]);
    assert.deepEqual(second.runs, { d: 1, e: 1 }, "only what did not succeed ran again");
    assert.equal(result.output("e"), "e4");
    assert.deepEqual(result.output("c"), { list: [1, "c"] });
    assert.equal(result.tasks.get("a")?.restored, true);
    assert.equal(result.tasks.get("d")?.restored, undefined);

    const uninterrupted = await run(countedJob().job);
    for (const [id, task] of uninterrupted.tasks) {
      assert.equal(result.tasks.get(id)?.status, task.status);
      assert.deepEqual(result.tasks.get(id)?.output, task.output);
    }

    // A third run finds everything done.
    const third = countedJob();
    assert.equal((await run(third.job, { journal })).status, "succeeded");
    assert.deepEqual(third.runs, {});
  });

  it("runs failed, cancelled and skipped tasks again on resume", async () => {
    const journal = memoryJournal();
    let fail = true;
    const make = () =>
      new Job("retry-later")
        .task("flaky", () => {
          if (fail) throw new Error("not yet");
          return "ok";
        })
        .task("after", { dependsOn: ["flaky"] }, ({ deps }) => `${deps.flaky}!`);
    const failed = await run(make(), { journal });
    assert.equal(failed.status, "failed");
    fail = false;
    const again = await run(make(), { journal });
    assert.equal(again.status, "succeeded");
    assert.equal(again.output("after"), "ok!");
    const last = taskRecords(journal.records()).at(-1)!;
    assert.equal(last.id, "after");
    assert.equal(last.output, '"ok!"');
  });

  it("refuses a journal of another job, naming what differs", async () => {
    const journal = memoryJournal("nightly.journal");
    await run(countedJob("diamond").job, { journal });
    const other = new Job("other").task("a", () => 1).task("z", { dependsOn: ["a"] }, () => 2);
    const result = await run(other, { journal });
    assert.equal(result.status, "failed");
    assert.ok(result.error instanceof FlotillaError);
    assert.equal(result.error.code, "E_JOURNAL_MISMATCH");
    assert.match(result.error.message, /journal "nightly\.journal" belongs to another job/);
    assert.match(result.error.message, /the journal's job is "diamond", this one is "other"/);
    assert.match(result.error.message, /task "z" is not in the journal/);
    assert.match(result.error.message, /task "b" is in the journal but not in this job/);
    for (const [, task] of result.tasks) assert.equal(task.status, "cancelled");

    const rewired = new Job("diamond")
      .task("a", () => 1)
      .task("b", () => 1)
      .task("c", { dependsOn: ["a"] }, () => 1)
      .task("d", { dependsOn: ["b", "c"] }, () => 1)
      .task("e", { dependsOn: ["d"] }, () => 1);
    const changed = await run(rewired, { journal });
    assert.equal((changed.error as FlotillaError).code, "E_JOURNAL_MISMATCH");
    assert.match((changed.error as FlotillaError).message, /task "b" depends on \[\], in the journal on \[a\]/);
  });

  it("refuses a journal another run holds", async () => {
    const journal = memoryJournal();
    const gate = deferred();
    const holder = start(countedJob("diamond", gate.promise).job, { journal });
    const started = deferred();
    holder.on("task:start", (e) => e.taskId === "d" && started.resolve());
    await started.promise;
    const second = await run(countedJob().job, { journal });
    assert.equal(second.status, "failed");
    assert.equal((second.error as FlotillaError).code, "E_JOURNAL_LOCKED");
    gate.resolve();
    assert.equal((await holder.result).status, "succeeded");
  });

  it("records an output JSON cannot write as not resumable: that task runs again", async () => {
    const journal = memoryJournal();
    let runs = 0;
    const make = () =>
      new Job("bigint")
        .task("big", () => (runs++, 10n))
        .task("plain", () => "p")
        .task("after", { dependsOn: ["big"] }, ({ deps }) => String(deps.big));
    await run(make(), { journal });
    const big = taskRecords(journal.records()).find((r) => r.id === "big")!;
    assert.equal(big.resumable, false);
    assert.equal(big.output, undefined);
    const again = await run(make(), { journal });
    assert.equal(again.status, "succeeded");
    assert.equal(runs, 2);
    assert.equal(again.tasks.get("plain")?.restored, true);
    assert.equal(again.tasks.get("after")?.restored, undefined, "a dependent of a task that ran again runs again");
  });

  it("batches the records of tasks that end together into one append (group commit)", async () => {
    const appends: number[] = [];
    const inner = memoryJournal();
    const release = deferred();
    let first = true;
    const journal: Journal = {
      name: "slow",
      open: () => inner.open(),
      async append(records) {
        appends.push(records.length);
        if (first) {
          first = false;
          await release.promise;
        }
        await inner.append(records);
      },
      close: () => inner.close(),
    };
    let job = new Job("wide");
    for (let i = 0; i < 50; i++) job = job.task(`t${i}`, () => i);
    const handle = start(job, { journal });
    handle.on("task:succeeded", (e) => e.taskId === "t49" && release.resolve());
    const result = await handle.result;
    assert.equal(result.status, "succeeded");
    assert.equal(
      appends.reduce((a, b) => a + b, 0),
      52,
    );
    assert.ok(appends.length <= 3, `50 tasks in ${appends.length} appends`);
    assert.deepEqual(
      inner.records().map((r) => r.type),
      ["job", "run", ...Array(50).fill("task")],
    );
  });

  it("stops the run when the journal cannot be opened or written (E_JOURNAL_FAILED), and closes it", async () => {
    let closed = 0;
    const broken = (failOpen: boolean): Journal => ({
      name: "disk",
      open: async () => {
        if (failOpen) throw new Error("EACCES");
        return [];
      },
      append: async () => {
        throw new Error("ENOSPC");
      },
      close: async () => void closed++,
    });
    const gate = deferred();
    const onOpen = await run(countedJob("diamond", gate.promise).job, { journal: broken(true) });
    assert.equal(onOpen.status, "failed");
    assert.equal((onOpen.error as FlotillaError).code, "E_JOURNAL_FAILED");
    assert.match((onOpen.error as FlotillaError).message, /journal "disk" could not be opened: EACCES/);
    assert.equal(closed, 0, "a journal that never opened is not closed");

    const onWrite = await run(countedJob("diamond", gate.promise).job, { journal: broken(false) });
    assert.equal(onWrite.status, "failed");
    assert.match((onWrite.error as FlotillaError).message, /journal "disk" could not be written: ENOSPC/);
    assert.equal(onWrite.counts.succeeded + onWrite.counts.cancelled, 5);
    assert.equal(onWrite.tasks.get("e")?.status, "cancelled");
    assert.equal(closed, 1);
  });

  it("a cancel while a resumed run reads its journal loses none of the recorded successes", async () => {
    const journal = memoryJournal();
    await run(countedJob().job, { journal });
    for (const cancel of ["run", "task"] as const) {
      const again = countedJob();
      const handle = start(again.job, { journal });
      if (cancel === "run") handle.cancel("changed my mind");
      else handle.cancelTask("a", "not now");
      await handle.result;
      assert.deepEqual(again.runs, {}, `cancel ${cancel}: nothing ran`);
      const third = countedJob();
      const result = await run(third.job, { journal });
      assert.equal(result.status, "succeeded");
      assert.deepEqual(third.runs, {}, `after a cancel of the ${cancel} during the open, everything is still restored`);
    }
    const runs = journal.records().filter((r) => r.type === "run");
    // A run record says what was restored: a run cancelled while opening records none; one that went on
    // after a task was cancelled (its dependents skipped) restored nothing.
    assert.deepEqual(
      runs.map((r) => r.restored),
      [0, 5, 0, 5],
    );
  });

  it("journals an error whose code JSON cannot write, and an output JSON would change as not resumable", async () => {
    const records: JournalRecord[] = [];
    const strict: Journal = {
      name: "strict",
      open: async () => [],
      append: async (more) => {
        records.push(...(JSON.parse(JSON.stringify(more)) as JournalRecord[]));
      },
      close: async () => {},
    };
    const job = new Job("odd")
      .task("bigcode", () => {
        throw Object.assign(new Error("upstream said no"), { code: 10n });
      })
      .task("date", () => new Date(0))
      .task("nan", () => ({ n: Number.NaN }))
      .task("map", () => new Map([[1, 2]]))
      .task("plain", () => ({ list: [1, "x", null, { ok: true }] }));
    const result = await run(job, { journal: strict });
    assert.equal(result.status, "failed");
    assert.match(String((result.error as Error).message), /upstream said no/);
    const byId = new Map(taskRecords(records).map((r) => [r.id, r]));
    assert.deepEqual(byId.get("bigcode")?.error, { name: "Error", message: "upstream said no" });
    for (const id of ["date", "nan", "map"]) assert.equal(byId.get(id)?.resumable, false, id);
    assert.equal(byId.get("plain")?.output, '{"list":[1,"x",null,{"ok":true}]}');
  });

  it("restores dependents before their dependencies, so no restored task is announced ready", async () => {
    const journal = memoryJournal();
    await run(countedJob().job, { journal });
    const handle = start(countedJob().job, { journal });
    const ready: string[] = [];
    handle.on("task:ready", (e) => ready.push(e.taskId));
    await handle.result;
    assert.deepEqual(ready, []);
  });

  it("a task added to the run is not part of the job's identity, and one added while the journal opens waits for it", async () => {
    const journal = memoryJournal();
    const gate = deferred();
    let opened = deferred();
    const gated: Journal = {
      name: "gated",
      open: async () => {
        opened.resolve();
        const records = await journal.open();
        await gate.promise;
        return records;
      },
      append: (records) => journal.append(records),
      close: () => journal.close(),
    };
    const order: string[] = [];
    const first = start(countedJob().job, { journal: gated });
    first.addTask("early", () => order.push("early ran"));
    await opened.promise;
    first.addTask("extra", () => order.push("extra ran"));
    assert.equal(order.length, 0, "nothing runs before the journal was read");
    gate.resolve();
    assert.equal((await first.result).status, "succeeded");
    const head = journal.records()[0] as JournalJobRecord;
    assert.deepEqual(
      head.tasks.map((t) => t.id),
      ["a", "b", "c", "d", "e"],
    );
    opened = deferred();
    const second = start(countedJob().job, { journal: gated });
    second.addTask("extra", () => order.push("extra ran again"));
    second.on("task:succeeded", (e) => e.restored && order.push(`restored ${e.taskId}`));
    assert.equal((await second.result).status, "succeeded", "the same job, resumed");
    assert.deepEqual(order, ["early ran", "extra ran", "restored e", "restored d", "restored b", "restored c", "restored a", "extra ran again"]);
  });

  it("names the field of a command that changed, and takes dependencies in any order", async () => {
    const journal = memoryJournal();
    const provider = childProcess({ slots: 1 });
    const make = (argv: string[], env: Record<string, string>, deps: ("a" | "z")[]) =>
      new Job("cmd")
        .task("a", command(["true"]))
        .task("z", command(["true"]))
        .task("b", { dependsOn: deps }, command(argv, { env, output: "none" }));
    assert.equal((await run(make(["true"], { K: "1" }, ["a", "z"]), { journal, provider })).status, "succeeded");
    assert.equal((await run(make(["true"], { K: "1" }, ["z", "a"]), { journal, provider })).status, "succeeded");
    const changed = await run(make(["true", "x"], { K: "2" }, ["a", "z"]), { journal, provider });
    assert.equal((changed.error as FlotillaError).code, "E_JOURNAL_MISMATCH");
    assert.match((changed.error as FlotillaError).message, /task "b" changed its argv, options\.env/);
    assert.doesNotMatch(JSON.stringify(journal.records()), /"K"|"1"/, "the env itself is not in the journal");
  });

  it("keeps the trace out of JSON.stringify(result)", async () => {
    const result = await run(
      new Job("t").task("a", () => 1),
      { trace: true },
    );
    assert.ok(result.trace !== undefined);
    assert.ok(!("trace" in JSON.parse(JSON.stringify(result))));
  });

  it("ends a run whose journal never answers (an append; an open, once cancelled) after stopTimeoutMs, failed with E_JOURNAL_FAILED", async () => {
    const runtime = virtualRuntime();
    for (const stuck of ["open", "append"] as const) {
      const journal: Journal = {
        name: "stuck",
        open: () => (stuck === "open" ? new Promise(() => {}) : Promise.resolve([])),
        append: () => new Promise(() => {}),
        close: async () => {},
      };
      const handle = start(
        new Job("j").task("a", () => 1),
        { journal, runtime, stopTimeoutMs: 5_000 },
      );
      if (stuck === "open") {
        await flush(); // the run began, its journal's open is pending: cancelling now ends it within the bound
        handle.cancel("enough");
      }
      const result = await handle.result;
      assert.equal(result.status, "failed", stuck);
      assert.match((result.error as Error).message, /journal "stuck" was given up: it did not answer within 5000 ms/);
    }
  });

  it("fails the run, not hangs it, when a journal's open() throws at once", async () => {
    const journal: Journal = {
      name: "sync",
      open: () => {
        throw new Error("no such disk");
      },
      append: async () => {},
      close: async () => {},
    };
    const result = await run(
      new Job("j").task("a", () => 1),
      { journal },
    );
    assert.equal(result.status, "failed");
    assert.match((result.error as Error).message, /journal "sync" could not be opened: no such disk/);
  });

  it("refuses what is not a journal", async () => {
    await assert.rejects(
      run(
        new Job("j").task("a", () => 1),
        { journal: { open() {} } as never },
      ),
      {
        code: "E_INVALID_OPTION",
        message: /option "journal" is not a Journal: missing name \(a string\), append, close/,
      },
    );
    await assert.rejects(
      run(
        new Job("j").task("a", () => 1),
        { trace: "yes" as never },
      ),
      { code: "E_INVALID_OPTION", message: /trace/ },
    );
  });
});
