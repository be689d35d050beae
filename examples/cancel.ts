/**
 * Cancelling: a crawl whose pages honour their signal. One slow branch is cancelled on its own with
 * cancelTask (its dependents are skipped, the rest goes on); then the whole run is cancelled when a
 * budget of pages is reached. Every in-flight body sees its signal abort at once.
 */
import { Job, start } from "flotilla";

const job = new Job<Record<string, number>>("crawl");
const page =
  (ms: number) =>
  async ({ sleep }: { sleep: (ms: number) => Promise<void> }) => {
    await sleep(ms); // sleep rejects with the cancellation as soon as the signal aborts
    return ms;
  };
job.task("index", page(20));
job.task("archive", { dependsOn: ["index"] }, page(10_000)); // far too slow: cancelled below
job.task("archive-report", { dependsOn: ["archive"] }, page(10));
for (let i = 0; i < 40; i++) job.task(`page-${i}`, { dependsOn: ["index"] }, page(30 + (i % 7) * 10));

const handle = start(job, { concurrency: 6 });
let done = 0;
handle.on("task:start", (e) => {
  if (e.taskId === "archive") handle.cancelTask("archive", "archive is too slow today");
});
handle.on("task:succeeded", () => {
  if (++done === 15) handle.cancel("page budget reached");
});

const result = await handle.result;
console.log(`status: ${result.status}`);
console.log(`archive: ${result.tasks.get("archive")?.status}, archive-report: ${result.tasks.get("archive-report")?.status}`);
console.log(`counts: ${JSON.stringify(result.counts)}`);
console.log(`why: ${(result.error as Error).message}`);
