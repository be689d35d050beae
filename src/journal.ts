/**
 * The Journal contract: where a run records each task's final state, so that the same job run again
 * with the same journal resumes (succeeded tasks are restored, not run again). A journal stores and
 * returns records; what they mean (which job, which tasks to restore) is core's (run-journal.ts), so
 * every journal — in memory, a file, Redis — resumes the same way.
 */
import { FlotillaError } from "./errors.ts";

/** Version of the record shapes below; a journal written with another is refused. */
export const JOURNAL_FORMAT = 1;

/** What a task looked like when the journal was begun: compared on resume to refuse another job. */
export interface JournalTaskShape {
  readonly id: string;
  readonly dependsOn: readonly string[];
  /** "function" for an in-process body; for a command or worker module, its kind and a hash of the spec. */
  readonly body: string;
}

/** The first record of every journal: which job it belongs to. */
export interface JournalJobRecord {
  readonly type: "job";
  readonly format: number;
  readonly job: string;
  readonly tasks: readonly JournalTaskShape[];
}

/** A run (the first or a resumption) began at `at` (the run's clock); `restored` tasks were not run again. */
export interface JournalRunRecord {
  readonly type: "run";
  readonly at: number;
  readonly restored: number;
}

/** A task reached its final state. */
export interface JournalTaskRecord {
  readonly type: "task";
  readonly id: string;
  readonly status: "succeeded" | "failed" | "cancelled" | "skipped";
  readonly attempts: number;
  /**
   * The output as JSON text, when the task succeeded and its output is JSON-serialisable (absent for
   * `undefined`). A succeeded task whose output is not serialisable is recorded with `resumable: false`
   * and runs again on resume.
   */
  readonly output?: string;
  readonly resumable?: false;
  /** Why it did not succeed, as `{ name, code, message }`. */
  readonly error?: { readonly name: string; readonly code?: string; readonly message: string };
  readonly at: number;
}

export type JournalRecord = JournalJobRecord | JournalRunRecord | JournalTaskRecord;

/**
 * Where a run's records go. Implement three methods; `fileJournal(path)` (flotilla/file-journal) and
 * `memoryJournal()` are the two shipped.
 *
 * - `open()` takes the journal for this run (a journal another run holds must refuse, with a clear
 *   error) and returns every record an earlier run appended durably, in order (a torn last record is
 *   dropped, not an error). Called once, before any task starts.
 * - `append(records)` adds records at the end; it resolves once they would survive a crash of the
 *   process (a file journal fsyncs). Core never calls it again before the previous call settled, and
 *   batches what arrives meanwhile into the next call (group commit).
 * - `close()` releases the journal (after the last append settled). Called once, also after a failure.
 */
export interface Journal {
  /** Names the journal in messages (a path, a key). */
  readonly name: string;
  open(): Promise<readonly JournalRecord[]>;
  append(records: readonly JournalRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** A journal in memory: resumes within one process (tests, a run restarted in place). */
export interface MemoryJournal extends Journal {
  /** Every record appended so far, in order. */
  records(): readonly JournalRecord[];
}

/**
 * A journal kept in memory. Hand the same one to a second `run` to resume; one run at a time holds it.
 *
 * @example
 * const journal = memoryJournal();
 * await run(job, { journal }); // cancelled half-way
 * await run(job, { journal }); // runs only what did not succeed
 */
export function memoryJournal(name = "memory journal"): MemoryJournal {
  const records: JournalRecord[] = [];
  let held = false;
  return {
    name,
    async open() {
      if (held) throw new FlotillaError("E_JOURNAL_LOCKED", `${name} is held by another run: one run at a time may use a journal`);
      held = true;
      return records.slice();
    },
    async append(more) {
      for (const r of more) records.push(r);
    },
    async close() {
      held = false;
    },
    records: () => records.slice(),
  };
}
