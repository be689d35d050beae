/**
 * CPU-bound tasks on worker threads: four chunks of a prime count run on two threads and a fifth task
 * adds them up; a task whose thread crashes is requeued on a fresh thread without spending a retry;
 * a task past its timeout is aborted inside its thread. Task bodies live in worker-tasks.mjs.
 */
import { Job, isFlotillaError, start } from "flotilla";
import { workerTask, workerThreads } from "flotilla/worker-threads";

const tasks = new URL("./worker-tasks.mjs", import.meta.url);
const LIMIT = 200_000;
const CHUNKS = 4;

let job = new Job<Record<string, number | string>>("primes");
const chunkIds: string[] = [];
for (let i = 0; i < CHUNKS; i++) {
  const id = `chunk${i}`;
  chunkIds.push(id);
  job = job.task(id, workerTask<number>(tasks, "countPrimes", { from: (i * LIMIT) / CHUNKS, to: ((i + 1) * LIMIT) / CHUNKS }));
}
job = job
  .task("total", { dependsOn: chunkIds }, workerTask<number>(tasks, "total"))
  .task("flaky", workerTask<string>(tasks, "crashOnce", { crashed: new Int32Array(new SharedArrayBuffer(4)) }))
  .task("slow", { timeoutMs: 100 }, workerTask(tasks, "waitForAbort"));

// One task per thread at a time: these bodies are CPU-bound.
const handle = start(job, { provider: workerThreads({ threads: 2, tasksPerThread: 1 }) });
const lines: string[] = [];
handle.on("task:output", (e) => lines.push(`${e.taskId}: ${e.line}`));
let requeues = 0;
handle.on("task:requeued", (e) => {
  requeues++;
  console.log(`requeued ${e.taskId}: ${e.error instanceof Error ? e.error.message : e.error}`);
});
const result = await handle.result;

for (const line of lines.sort()) console.log(line);
console.log(`primes below ${LIMIT}: ${result.output("total")} (${CHUNKS} chunks on 2 threads)`);
console.log(`flaky: ${result.output("flaky")} after ${requeues} requeue (it has no retries: a lost thread spends none)`);
const slow = result.tasks.get("slow");
console.log(`slow: ${slow.status} with ${isFlotillaError(slow.error) ? slow.error.code : String(slow.error)}`);
console.log(`job "${job.name}" ${result.status}: ${JSON.stringify(result.counts)}`);
