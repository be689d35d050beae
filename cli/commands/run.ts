/**
 * `flotilla run FILE`: loads the job, runs it with progress in the mode that suits where stdout goes,
 * stops it on Ctrl-C / SIGTERM (gracefully the first time, at once the second), prints the summary,
 * and answers with the exit code of how it ended.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileJournal } from "../../adapters/file-journal/index.ts";
import { FlotillaError } from "../../src/errors.ts";
import { htmlReport } from "../../src/report/index.ts";
import type { RunResult } from "../../src/result.ts";
import type { RunOptions } from "../../src/run-options.ts";
import { start } from "../../src/run.ts";
import { EXIT, exitCodeOfStatus } from "../exit-codes.ts";
import { formatDuration } from "../format.ts";
import { stderr, stdout } from "../io.ts";
import { loadJobFile, type LoadedJob } from "../load.ts";
import type { RunCommandOptions } from "../options.ts";
import { progressMode, showProgress, type Progress } from "../progress/index.ts";
import { onInterrupt } from "../signals.ts";
import { summaryText } from "../summary.ts";
import { dryRun } from "./dry-run.ts";

/** The run options the command's flags make (`--trace` and `--report` both need the run's trace). */
function runOptionsOf(options: RunCommandOptions, loaded: LoadedJob): RunOptions {
  return {
    concurrency: options.concurrency,
    failFast: options.failFast,
    cancelGraceMs: options.graceMs,
    ...(loaded.poolNames.length > 0 ? { pools: loaded.makePools() } : {}),
    ...(options.journal !== undefined ? { journal: fileJournal(resolve(options.journal)) } : {}),
    // The summary's critical path is read from the trace, so the command always records one.
    trace: true,
  };
}

/** `--trace FILE` and `--report FILE`: the run's trace as JSON, and the HTML timeline made of it. */
function writeTraceFiles(options: RunCommandOptions, result: RunResult<any>): void {
  const trace = result.trace!;
  if (options.trace !== undefined) {
    writeFileSync(options.trace, `${JSON.stringify(trace)}\n`);
    stderr.write(`flotilla: trace written to ${options.trace} (open it in ui.perfetto.dev or chrome://tracing)\n`);
  }
  if (options.report !== undefined) {
    writeFileSync(options.report, htmlReport(trace, { title: `flotilla: ${result.job}` }));
    stderr.write(`flotilla: report written to ${options.report}\n`);
  }
}

/**
 * A journal that refused the run (another run holds it, or it is another job's) means nothing ran:
 * the command says why and exits 2, as for a bad option. One that failed mid-run fails the run (1).
 */
function journalRefusal(result: RunResult<any>): FlotillaError | undefined {
  const error = result.error;
  return error instanceof FlotillaError && (error.code === "E_JOURNAL_LOCKED" || error.code === "E_JOURNAL_MISMATCH" || error.code === "E_JOURNAL_FAILED")
    ? error
    : undefined;
}

/**
 * The first signal cancels the run: running attempts are aborted through their signals (a command gets
 * SIGTERM, then SIGKILL after its killGraceMs) and each gets up to `--grace` to stop. The second exits
 * at once: process.exit runs the adapters' exit hooks, which SIGKILL every process group they started
 * (child-process commands, local VMs); worker threads end with the process.
 */
function stopOnSignals(handle: { cancel(reason?: unknown): void }, progress: Progress, graceMs: number): () => void {
  return onInterrupt({
    first: (signal) => {
      progress.notice(
        `flotilla: ${signal}: cancelling the run; running tasks get up to ${formatDuration(graceMs)} to stop. Press Ctrl-C again (or send another SIGTERM) to kill them now.`,
      );
      handle.cancel(signal);
    },
    again: (signal) => {
      progress.notice(`flotilla: ${signal} again: killing every task still running`);
      progress.finish();
      process.exit(EXIT.cancelled);
    },
  });
}

export async function runCommand(options: RunCommandOptions): Promise<number> {
  const loaded = await loadJobFile(options.file);
  if (options.dryRun) return dryRun(loaded, options);
  const handle = start(loaded.job, runOptionsOf(options, loaded));
  const mode = progressMode(options, process.stdout, process.env);
  const progress = showProgress(mode, handle, { quiet: options.quiet, out: stdout, err: stderr });
  const stopListening = stopOnSignals(handle, progress, options.graceMs);
  let result: RunResult<any>;
  try {
    result = await handle.result;
  } finally {
    stopListening();
    progress.finish();
  }
  writeTraceFiles(options, result);
  const refusal = journalRefusal(result);
  if (refusal !== undefined) {
    stderr.write(`flotilla: ${refusal.code}: ${refusal.message}\n`);
    if (refusal.code !== "E_JOURNAL_FAILED") return EXIT.invalid;
  }
  if (mode !== "json") {
    stdout.write(summaryText(result, { width: process.stdout.columns || 100 }));
    if (options.journal !== undefined) {
      let restored = 0;
      for (const [, task] of result.tasks) if (task.restored) restored++;
      stdout.write(`journal ${options.journal}: ${restored} task${restored === 1 ? "" : "s"} restored from an earlier run\n`);
    }
  }
  return exitCodeOfStatus(result.status);
}
