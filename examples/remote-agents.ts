// Running a job on agents over BullMQ on Redis (flotilla/bullmq): two agents pull attempts from Redis
// and run worker modules from their allow-listed folder; the coordinator (this process) runs the job on
// a pool whose nodes are those agents, with a journal in Redis so another machine could resume it.
// In production each agent is its own process on its own machine (`flotilla agent --queue primes ...`);
// here they are embedded with startAgent() so the example is one program.
//
//   FLOTILLA_REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/remote-agents.ts
// Without FLOTILLA_REDIS_URL it starts a throwaway redis-server (Debian's `redis-server` package).
import { Job, pool, start } from "flotilla";
import { bullmq, redisJournal, startAgent } from "flotilla/bullmq";
import { childProcess } from "flotilla/child-process";
import { workerTask, workerThreads } from "flotilla/worker-threads";
import { startRedisServer } from "../test/redis-server.ts";

const redis = process.env.FLOTILLA_REDIS_URL === undefined ? await startRedisServer() : undefined;
const connection = process.env.FLOTILLA_REDIS_URL ?? redis!.url;
const modules = new URL("./", import.meta.url); // worker-tasks.mjs is in this folder
const tasks = new URL("./worker-tasks.mjs", modules);

const agents = await Promise.all(
  ["east", "west"].map((name) =>
    startAgent({
      connection,
      queue: "primes",
      name,
      modules,
      concurrency: 2,
      providers: [workerThreads({ threads: 2, tasksPerThread: 1 }), childProcess({ slots: 2 })],
    }),
  ),
);
const remote = pool(bullmq({ connection, queue: "primes", modules }), { maxNodes: 2 });
try {
  const job = new Job<Record<string, unknown>>("primes");
  const chunks = [0, 1, 2, 3].map((i) => `chunk${i}`);
  chunks.forEach((id, i) => job.task(id, workerTask<number>(tasks, "countPrimes", { from: i * 50_000, to: (i + 1) * 50_000 })));
  job.task("total", { dependsOn: chunks }, workerTask<number>(tasks, "total"));
  const handle = start(job, { pools: { default: remote }, journal: redisJournal({ connection, key: `journal:primes:${Date.now()}` }) });
  const nodes = new Set<string>();
  handle.on("task:start", (event) => nodes.add(event.nodeId));
  const result = await handle.result;
  console.log(`${result.status}: primes below 200000: ${result.tasks.get("total")?.output} (on agents ${[...nodes].sort().join(", ")})`);
} finally {
  await remote.close();
  await Promise.all(agents.map((agent) => agent.close()));
  await redis?.stop();
}
