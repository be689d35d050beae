/** `flotilla run FILE --dry-run`: simulate the job and print how long it would take, the nodes and the cost. */
import { formatDuration } from "../format.ts";
import { stdout } from "../io.ts";
import type { DryRunReport, LoadedJob } from "../load.ts";
import { EXIT } from "../exit-codes.ts";

export function dryRunText(name: string, report: DryRunReport): string {
  const peaks = Object.entries(report.peakNodes);
  return [
    `dry run of job "${name}": ${report.tasks} task${report.tasks === 1 ? "" : "s"}, nothing was run`,
    `  makespan    ${formatDuration(report.makespanMs)}`,
    `  peak nodes  ${peaks.length === 0 ? "none" : peaks.map(([pool, n]) => `${pool} ${n}`).join(" · ")}`,
    `  cost        ${report.cost.toFixed(4)}`,
    "",
  ].join("\n");
}

export async function dryRun(loaded: LoadedJob, options: { json: boolean }): Promise<number> {
  const report = await loaded.dryRun();
  stdout.write(options.json ? `${JSON.stringify(report)}\n` : dryRunText(loaded.name, report));
  return EXIT.succeeded;
}
