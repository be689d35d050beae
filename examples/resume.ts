/**
 * Resuming a job from its journal: the first run fails half-way (the "publish" step finds the network
 * down); run again with the same journal file, it restores what succeeded — outputs included — and runs
 * only the rest. Kill the process instead of failing (Ctrl-C, SIGKILL, a power cut) and it resumes the
 * same way: at most the attempts that were running go again.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Job, run } from "flotilla";
import { fileJournal } from "flotilla/file-journal";

const dir = mkdtempSync(join(tmpdir(), "flotilla-resume-"));
const journalPath = join(dir, "report.journal");
let networkUp = false;
const ran: string[] = [];

function reportJob() {
  return new Job<Record<string, unknown>>("monthly-report")
    .task("extract", () => (ran.push("extract"), { rows: 1200 }))
    .task("clean", { dependsOn: ["extract"] }, ({ deps }) => (ran.push("clean"), (deps.extract as { rows: number }).rows - 37))
    .task("chart", { dependsOn: ["clean"] }, ({ deps }) => (ran.push("chart"), `chart of ${String(deps.clean)} rows`))
    .task("publish", { dependsOn: ["chart"] }, ({ deps }) => {
      ran.push("publish");
      if (!networkUp) throw new Error("network is down");
      return `published ${String(deps.chart)}`;
    })
    .task("notify", { dependsOn: ["publish"] }, ({ deps }) => (ran.push("notify"), `mailed: ${String(deps.publish)}`));
}

try {
  const first = await run(reportJob(), { journal: fileJournal(journalPath) });
  console.log(`first run: ${first.status} (${first.counts.succeeded} succeeded; ran ${ran.join(", ")})`);

  networkUp = true;
  ran.length = 0;
  const second = await run(reportJob(), { journal: fileJournal(journalPath) });
  const restored = [...second.tasks].filter(([, t]) => t.restored).map(([id]) => id);
  console.log(`resumed: ${second.status}; restored ${restored.join(", ")}; ran ${ran.join(", ")}`);
  console.log(second.output("notify"));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
