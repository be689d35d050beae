/** Whether a run's journal error means the journal refused the run (nothing ran: exit 2) or failed it (exit 1). */
import { FlotillaError } from "../src/errors.ts";
import type { RunResult } from "../src/result.ts";

/** Journal errors that can mean the journal refused the run: another run holds it, it is another job's, it cannot be opened. */
const JOURNAL_REFUSALS: ReadonlySet<string> = new Set(["E_JOURNAL_LOCKED", "E_JOURNAL_MISMATCH", "E_JOURNAL_FAILED"]);

/**
 * A journal that refused the run before any task did anything (another run holds it, it is another
 * job's, or it cannot be opened: not a journal, damaged, unreadable) means nothing ran: the command says
 * why and exits 2, as for a bad option, with no summary and no trace files (they would only list every
 * task as cancelled). One that failed after a task was attempted or restored fails the run (1).
 */
export function journalRefusal(result: RunResult<any>): FlotillaError | undefined {
  const error = result.error;
  if (!(error instanceof FlotillaError) || !JOURNAL_REFUSALS.has(error.code)) return undefined;
  for (const [, task] of result.tasks) if (task.attempts > 0 || task.restored) return undefined;
  return error;
}
