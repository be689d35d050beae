/**
 * The demo job (`npm start`): a small release pipeline of 21 tasks with dependencies, run in parallel
 * with live progress and a summary at the end. One upload is flaky and succeeds on its retry; one
 * thumbnail step runs past its timeout once, is aborted through its signal, and succeeds on retry.
 * It ends by writing an HTML timeline of the run (flotilla/report) and saying where it is.
 */
import cliProgress from "cli-progress";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Job, start, type RunResult } from "flotilla";
import { criticalPath, htmlReport } from "flotilla/report";

const packages = ["core", "cli", "web", "docs", "sdk"];
const work =
  (ms: number) =>
  async ({ sleep }: { sleep: (ms: number) => Promise<void> }) =>
    sleep(ms);

const job = new Job<Record<string, unknown>>("release");
job.task("checkout", work(150));
for (const [i, name] of packages.entries()) {
  job.task(`lint:${name}`, { dependsOn: ["checkout"] }, work(120 + 40 * i));
  job.task(`build:${name}`, { dependsOn: ["checkout"], priority: name === "core" ? 1 : 0 }, work(250 + 60 * i));
  job.task(`test:${name}`, { dependsOn: [`build:${name}`] }, work(200 + 30 * i));
}
job.task("thumbnails", { dependsOn: ["build:web"], timeoutMs: 400, retries: 1, backoff: { initialMs: 100 } }, async ({ attempt, sleep }) => {
  await sleep(attempt === 1 ? 2_000 : 150); // the first attempt hangs and is aborted at 400 ms
  return 12;
});
job.task("bundle", { dependsOn: packages.map((p) => `test:${p}`).concat("thumbnails") }, work(200));
job.task("upload", { dependsOn: ["bundle"], retries: 2, backoff: { initialMs: 200 } }, async ({ attempt, sleep }) => {
  await sleep(120);
  if (attempt === 1) throw new Error("503 from the artifact store");
  return "s3://releases/v1.2.3.tgz";
});
job.task("changelog", { dependsOn: ["checkout"] }, work(100));
job.task("announce", { dependsOn: ["upload", "changelog"] }, ({ deps }) => `released ${String(deps.upload)}`);

const tty = process.stdout.isTTY === true;
const handle = start(job, { concurrency: 4, trace: true });
const bar = new cliProgress.SingleBar(
  { format: "{bar} {value}/{total} tasks | running {running} | {last}", hideCursor: true, clearOnComplete: true },
  cliProgress.Presets.shades_classic,
);
let running = 0;
let last = "";
if (tty) bar.start(job.size, 0, { running, last });
const note = (line: string) => {
  last = line;
  if (tty) bar.update({ running, last });
  else console.log(line);
};
handle.on("task:start", (e) => {
  running++;
  note(`started ${e.taskId}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ""}`);
});
handle.on("task:retry", (e) => {
  running--;
  note(`retrying ${e.taskId} in ${e.delayMs} ms: ${(e.error as Error).message}`);
});
handle.on("task:succeeded", (e) => {
  running--;
  if (tty) bar.increment();
  note(`done ${e.taskId}`);
});
handle.on("task:failed", (e) => {
  running--;
  if (tty) bar.increment();
  note(`FAILED ${e.taskId}: ${(e.error as Error).message}`);
});
for (const event of ["task:cancelled", "task:skipped"] as const) {
  handle.on(event, (e) => {
    if (tty) bar.increment();
    note(`${e.type.slice(5)} ${e.taskId}`);
  });
}
// Ctrl-C cancels the run: running tasks are aborted, the rest is cancelled, and the summary says so.
process.once("SIGINT", () => handle.cancel("Ctrl-C"));

const finished = await handle.result;
if (tty) bar.stop();
printSummary(finished);
writeReport(finished);
process.exitCode = finished.status === "succeeded" ? 0 : 1;

function printSummary(result: RunResult) {
  console.log(`\njob "${result.job}" ${result.status} in ${result.durationMs} ms`);
  const c = result.counts;
  console.log(`  ${c.succeeded} succeeded, ${c.failed} failed, ${c.cancelled} cancelled, ${c.skipped} skipped`);
  const notable = [...result.tasks].filter(([, t]) => t.attempts > 1 || t.status !== "succeeded");
  for (const [id, t] of notable) {
    console.log(`  ${id}: ${t.status} after ${t.attempts} attempt${t.attempts === 1 ? "" : "s"}`);
  }
  console.log(`  announce -> ${String(result.output("announce") ?? "(not reached)")}`);
}

/** The run's timeline as one self-contained HTML file: a lane per slot, the critical path highlighted. */
function writeReport(result: RunResult) {
  const dir = join(tmpdir(), "flotilla-demo");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "report.html");
  writeFileSync(file, htmlReport(result.trace!, { title: `flotilla demo: ${result.job}` }));
  console.log(`  critical path: ${criticalPath(result.trace!).tasks.join(" -> ")}`);
  console.log(`\nreport written to ${file} (open it in a browser)`);
}
