/**
 * `flotilla run FILE`: loads the job, runs it with progress in the mode that suits where stdout goes,
 * stops it on Ctrl-C / SIGTERM (gracefully the first time, at once the second), prints the summary,
 * and answers with the exit code of how it ended.
 */
import type { RunResult } from "../../src/result.ts";
import type { RunOptions } from "../../src/run-options.ts";
import { start } from "../../src/run.ts";
import { EXIT, exitCodeOfStatus } from "../exit-codes.ts";
import { formatDuration } from "../format.ts";
import { stderr, stdout } from "../io.ts";
import { dependenciesOf } from "../job-deps.ts";
import { loadJobFile, type LoadedJob } from "../load.ts";
import type { RunCommandOptions } from "../options.ts";
import { progressMode, showProgress, type Progress } from "../progress/index.ts";
import { onInterrupt } from "../signals.ts";
import { summaryText } from "../summary.ts";
import { dryRun } from "./dry-run.ts";

/**
 * The run options the command's flags make. (`--journal`, `--trace` and `--report` are parsed into
 * `options` and not used yet: they are wired here and after the run.)
 */
function runOptionsOf(options: RunCommandOptions, loaded: LoadedJob): RunOptions {
  return {
    concurrency: options.concurrency,
    failFast: options.failFast,
    cancelGraceMs: options.graceMs,
    ...(loaded.poolNames.length > 0 ? { pools: loaded.makePools() } : {}),
  };
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
  if (mode !== "json") {
    const dependencies = dependenciesOf(loaded.job);
    stdout.write(summaryText(result, { dependencies: (id) => dependencies.get(id) ?? [], width: process.stdout.columns || 100 }));
  }
  return exitCodeOfStatus(result.status);
}
