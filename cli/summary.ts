/**
 * The summary printed when a run ends: a headline, the counts and elapsed time, every failed task
 * with its error, the slowest tasks, the critical path, and what each pool used. Plain text (no colour),
 * so it reads the same in a terminal and in a log.
 */
import Table from "cli-table3";
import type { RunResult, TaskResult } from "../src/result.ts";
import { criticalPath } from "./critical-path.ts";
import { errorLine, errorText, formatDuration } from "./format.ts";

const SLOWEST = 5;

export interface SummaryOptions {
  /** A task's dependencies, for the critical path. */
  readonly dependencies: (id: string) => readonly string[];
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

  const timed = [...result.tasks].flatMap(([id, task]) => {
    const ms = durationOf(task);
    return ms === undefined ? [] : [{ id, ms, task }];
  });
  if (timed.length > 0) {
    const slowest = table(["slowest tasks", "duration", "attempts"]);
    for (const { id, ms, task } of timed.sort((a, b) => b.ms - a.ms).slice(0, SLOWEST)) slowest.push([id, formatDuration(ms), task.attempts]);
    parts.push(slowest.toString());
  }

  const path = criticalPath(result.tasks, options.dependencies);
  if (path.length > 0) {
    const first = result.tasks.get(path[0]!)!;
    const last = result.tasks.get(path[path.length - 1]!)!;
    const chain = table([`critical path (${formatDuration(last.finishedAt! - first.startedAt!)})`, "started at", "duration"]);
    for (const id of path) {
      const task = result.tasks.get(id)!;
      chain.push([id, `+${formatDuration(task.startedAt! - result.startedAt)}`, formatDuration(durationOf(task)!)]);
    }
    parts.push(chain.toString());
  }

  const pools = Object.entries(result.pools);
  if (pools.length > 0) {
    const used = table(["pool", "peak nodes", "node-seconds", "cost", "utilization"]);
    for (const [name, stats] of pools) {
      used.push([name, stats.peakNodes, stats.nodeSeconds.toFixed(1), stats.cost.toFixed(4), `${Math.round(stats.utilization * 100)}%`]);
    }
    parts.push(used.toString());
  }
  return `${parts.join("\n")}\n`;
}
