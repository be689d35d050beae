/**
 * `flotilla run FILE`: loads the job, runs it with progress in the mode that suits where stdout goes,
 * stops it on Ctrl-C / SIGTERM (gracefully the first time, at once the second), prints the summary,
 * and answers with the exit code of how it ended.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileJournal } from "../../adapters/file-journal/index.ts";
import { messageOf } from "../../src/errors.ts";
import { htmlReport } from "../../src/report/index.ts";
import type { RunResult } from "../../src/result.ts";
import type { RunOptions } from "../../src/run-options.ts";
import { start } from "../../src/run.ts";
import { EXIT, exitCodeOfStatus } from "../exit-codes.ts";
import { checkFileFlags } from "../file-flags.ts";
import { journalRefusal } from "../journal-refusal.ts";
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

/**
 * `--trace FILE` and `--report FILE`: the run's trace as JSON, and the HTML timeline made of it. Their
 * folders were checked before the run, but a write can still fail (the folder was removed meanwhile, the
 * disk is full): each failure is said on stderr, without a stack, and the other file is still written.
 */
function writeTraceFiles(options: RunCommandOptions, result: RunResult<any>): void {
  const trace = result.trace!;
  const write = (flag: string, path: string, what: string, content: () => string, note: string): void => {
    try {
      writeFileSync(path, content());
      stderr.write(`flotilla: ${what} written to ${path}${note}\n`);
    } catch (error) {
      stderr.write(`flotilla: ${flag}: could not write the ${what} to ${path}: ${messageOf(error)}\n`);
    }
  };
  if (options.trace !== undefined) {
    write("--trace", options.trace, "trace", () => `${JSON.stringify(trace)}\n`, " (open it in ui.perfetto.dev or chrome://tracing)");
  }
  if (options.report !== undefined) {
    write("--report", options.report, "report", () => htmlReport(trace, { title: `flotilla: ${result.job}` }), "");
  }
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
  if (!options.dryRun) checkFileFlags(options);
  const loaded = await loadJobFile(options.file);
  if (options.dryRun) return dryRun(loaded, options);
  const handle = start(loaded.job, runOptionsOf(options, loaded));
  const mode = progressMode(options, process.stdout, process.env);
  const progress = showProgress(mode, handle, { quiet: options.quiet, out: stdout, err: stderr, journal: options.journal !== undefined });
  const stopListening = stopOnSignals(handle, progress, options.graceMs);
  let result: RunResult<any>;
  try {
    result = await handle.result;
  } catch (error) {
    stopListening();
    progress.finish();
    throw error;
  }
  stopListening();
  const refusal = journalRefusal(result);
  progress.finish(refusal !== undefined);
  if (refusal !== undefined) {
    stderr.write(`flotilla: ${refusal.code}: ${refusal.message}\n`);
    return EXIT.invalid;
  }
  if (mode !== "json") {
    stdout.write(summaryText(result, { width: process.stdout.columns || 100 }));
    if (options.journal !== undefined) {
      let restored = 0;
      for (const [, task] of result.tasks) if (task.restored) restored++;
      stdout.write(`journal ${options.journal}: ${restored} task${restored === 1 ? "" : "s"} restored from an earlier run\n`);
    }
  }
  // After the summary, so a file that cannot be written does not hide how the run went. A failed write
  // keeps the run's exit code: the code says how the job ended (scripts retry or alert on it), and
  // turning a succeeded run into 1 ("a task failed") would send them after a task that did not fail.
  // The failure is on stderr, and the file is missing, for whoever reads it.
  writeTraceFiles(options, result);
  return exitCodeOfStatus(result.status);
}
