/**
 * `flotilla run FILE --dry-run`: simulate the job and print how long it would take, the nodes and the
 * cost, whether the plan succeeds and, when it does not, each task that would not finish and why.
 */
import { EXIT } from "../exit-codes.ts";
import { formatDuration } from "../format.ts";
import { stdout } from "../io.ts";
import type { DryRunReport, LoadedJob } from "../load.ts";

/** The first line of a reason (whole, however long: it says why), so each task takes one row. */
function firstLine(text: string): string {
  const end = text.indexOf("\n");
  return end === -1 ? text : `${text.slice(0, end)} …`;
}

export function dryRunText(name: string, report: DryRunReport): string {
  const peaks = Object.entries(report.peakNodes);
  const unfinished = report.unfinished.length;
  const lines = [
    `dry run of job "${name}": ${report.tasks} task${report.tasks === 1 ? "" : "s"}, nothing was run`,
    `  plan        ${report.status === "succeeded" ? "succeeded" : `${report.status}: ${unfinished} of ${report.tasks} task${report.tasks === 1 ? "" : "s"} would not succeed`}`,
    `  makespan    ${formatDuration(report.makespanMs)}`,
    `  peak nodes  ${peaks.length === 0 ? "none" : peaks.map(([pool, n]) => `${pool} ${n}`).join(" · ")}`,
    `  cost        ${report.cost.toFixed(4)}`,
  ];
  if (unfinished > 0) {
    lines.push("  would not succeed:");
    const idWidth = Math.max(...report.unfinished.map((task) => task.id.length));
    for (const task of report.unfinished) lines.push(`    ${task.id.padEnd(idWidth)}  ${task.status}: ${firstLine(task.reason)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Exits 0 when the plan succeeds, 1 when a task would not (as the run itself would), printing the report either way. */
export async function dryRun(loaded: LoadedJob, options: { json: boolean }): Promise<number> {
  const report = await loaded.dryRun();
  stdout.write(options.json ? `${JSON.stringify(report)}\n` : dryRunText(loaded.name, report));
  return report.status === "succeeded" ? EXIT.succeeded : EXIT.failed;
}
