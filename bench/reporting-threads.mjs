// The benches' worker threads (BullMQ workers, flotilla agents): started and ready before the clock,
// reporting their completions, stopped after. Completions are counted in the thread and told to the
// main thread at most once per turn of its event loop: a postMessage per job wakes the main thread each
// time, which on 2 cores cost the thread reporting ~15% of its CPU (a profile of the agent case) and so
// understated what it can do.
import { Worker as Thread } from "node:worker_threads";

/** In the worker thread: call the result once per completion; `{ completed: n }` reaches the main thread. */
export function completionReporter(port) {
  let pending = 0;
  const flush = () => {
    port.postMessage({ completed: pending });
    pending = 0;
  };
  return () => {
    if (pending++ === 0) setImmediate(flush);
  };
}

/**
 * Starts `count` threads of the module `file`, thread i given `workerDataOf(i)`. Each says `{ ready: value }`
 * once it can take work, `{ completed: n }` as it completes, and "error ..." when something failed
 * (rejecting the start); on "close" it stops and exits. Resolves with the values they were ready with
 * and `stop()`, which closes them all and resolves once they have exited.
 */
export async function startReportingThreads(file, count, workerDataOf, onCompleted = () => {}) {
  const threads = [];
  const ready = [];
  for (let i = 0; i < count; i++) {
    const thread = new Thread(file, { workerData: workerDataOf(i) });
    ready.push(
      new Promise((resolve, reject) => {
        thread.on("error", reject);
        thread.on("message", (message) => {
          if (typeof message === "string" && message.startsWith("error")) reject(new Error(`bench thread: ${message}`));
          else if (typeof message?.completed === "number") onCompleted(message.completed);
          else if (message !== null && typeof message === "object" && "ready" in message) resolve(message.ready);
        });
      }),
    );
    threads.push(thread);
  }
  const values = await Promise.all(ready);
  const stop = () =>
    Promise.all(
      threads.map(
        (thread) =>
          new Promise((resolve) => {
            thread.on("exit", resolve);
            thread.postMessage("close");
          }),
      ),
    );
  return { values, stop };
}
