// Completions counted in a worker thread and told to the main thread at most once per turn of its
// event loop: a postMessage per job wakes the main thread each time, which on 2 cores cost the thread
// reporting ~15% of its CPU (a profile of the agent case) and so understated what it can do.

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

/** In the main thread: the number of completions a message carries (0 for any other message). */
export function completionsIn(message) {
  return typeof message === "object" && message !== null && typeof message.completed === "number" ? message.completed : 0;
}
