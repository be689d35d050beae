/**
 * The summary printed when a run ends: a headline, the counts and elapsed time, every failed task
 * with its error, the slowest tasks, the critical path, and what each pool used. Plain text (no colour),
 * so it reads the same in a terminal and in a log.
 */
import Table from "cli-table3";
import { criticalPath } from "../src/report/index.ts";
import type { RunResult, TaskResult } from "../src/result.ts";
import { errorLine, errorText, formatDuration } from "./format.ts";

const SLOWEST = 5;

export interface SummaryOptions {
  /** Columns available; long error messages wrap to fit. @default 100 */
  readonly width?: number;
}

function table(head: string[], colWidths?: (number | null)[]): Table.Table {
  // No colours: cli-table3 paints the head red and the borders grey by default.
  return new Table({ head, style: { head: [], border: [], compact: true }, ...(colWidths === undefined ? {} : { colWidths, wordWrap: true }) });
}

function durationOf(task: TaskResult): number | undefined {
  return task.startedAt === undefined || task.finishedAt === undefined ? undefined : task.finishedAt - task.startedAt;
}

function headline(result: RunResult<any>): string {
  const took = formatDuration(result.durationMs);
  if (result.status === "succeeded") return `job "${result.job}" succeeded in ${took}`;
  if (result.status === "cancelled") return `job "${result.job}" was cancelled after ${took}: ${errorLine(result.error)}`;
  const failed = result.counts.failed;
  return `job "${result.job}" failed after ${took}: ${failed === 0 ? errorLine(result.error) : `${failed} task${failed === 1 ? "" : "s"} failed`}`;
}

export function summaryText(result: RunResult<any>, options: SummaryOptions): string {
  const width = options.width ?? 100;
  const { succeeded, failed, cancelled, skipped } = result.counts;
  const parts = [headline(result)];

  const counts = table(["succeeded", "failed", "cancelled", "skipped", "total", "elapsed"]);
  counts.push([succeeded, failed, cancelled, skipped, result.tasks.size, formatDuration(result.durationMs)]);
  parts.push(counts.toString());

  const failures = [...result.tasks].filter(([, task]) => task.status === "failed");
  if (failures.length > 0) {
    const idWidth = Math.min(40, Math.max(13, ...failures.map(([id]) => id.length + 2)));
    const errors = table(["failed task", "attempts", "error"], [idWidth, 10, Math.max(30, width - idWidth - 10 - 4)]);
    for (const [id, task] of failures) errors.push([id, task.attempts, errorText(task.error)]);
    parts.push(errors.toString());
  }

  // A task restored from the journal did not run in this run (its times are the run's start): it is
  // not among the slowest.
  const timed = [...result.tasks].flatMap(([id, task]) => {
    if (task.restored) return [];
    const ms = durationOf(task);
    return ms === undefined ? [] : [{ id, ms, task }];
  });
  if (timed.length > 0) {
    const slowest = table(["slowest tasks", "duration", "attempts"]);
    for (const { id, ms, task } of timed.sort((a, b) => b.ms - a.ms).slice(0, SLOWEST)) slowest.push([id, formatDuration(ms), task.attempts]);
    parts.push(slowest.toString());
  }

  // (The command runs with `trace: true`: the path is read from the run's trace, as the report's is.)
  const path = result.trace === undefined ? undefined : criticalPath(result.trace);
  if (path !== undefined && path.steps.length > 0) {
    const chain = table([`critical path (${formatDuration(path.durationMs)})`, "started at", "duration"]);
    for (const step of path.steps) chain.push([step.task, `+${formatDuration(step.startMs)}`, formatDuration(step.endMs - step.startMs)]);
    parts.push(chain.toString());
  }

  // (A pool the job never used — the implicit in-process "default" of a job file's commands — is left out.)
  const pools = Object.entries(result.pools).filter(([, stats]) => stats.peakNodes > 0 || stats.nodeSeconds > 0);
  if (pools.length > 0) {
    const used = table(["pool", "peak nodes", "node-seconds", "cost", "utilization"]);
    for (const [name, stats] of pools) {
      used.push([name, stats.peakNodes, stats.nodeSeconds.toFixed(1), stats.cost.toFixed(4), `${Math.round(stats.utilization * 100)}%`]);
    }
    parts.push(used.toString());
  }
  return `${parts.join("\n")}\n`;
}
