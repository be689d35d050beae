/**
 * The README's first example: a typed three-step ETL job with a retry and a timeout, run with a
 * concurrency limit and a caller's AbortSignal.
 */
import { Job, run } from "flotilla";

async function fetchRows(signal: AbortSignal): Promise<number[]> {
  signal.throwIfAborted();
  return [1, 2, 3, 4];
}

let saves = 0;
async function save(rows: number[]): Promise<number> {
  if (++saves === 1) throw new Error("database busy"); // the first save fails; the retry succeeds
  return rows.length;
}

const job = new Job("etl")
  .task("extract", async ({ signal }) => fetchRows(signal))
  .task("double", { dependsOn: ["extract"] }, ({ deps }) => deps.extract.map((r) => r * 2))
  .task("load", { dependsOn: ["double"], retries: 2, timeoutMs: 5_000, backoff: { initialMs: 50 } }, async ({ deps }) => save(deps.double));

const result = await run(job, { concurrency: 8, signal: AbortSignal.timeout(60_000) });
console.log(result.status, result.output("load"), `(load took ${result.tasks.get("load").attempts} attempts)`);
if (result.status !== "succeeded") process.exitCode = 1;
