// The task module of examples/worker-threads.ts. Each export runs in a worker thread as
// fn(input, ctx): ctx has taskId, attempt, deps (the dependencies' outputs), signal and log(line).

/** Counts the primes in [from, to): CPU-bound work that would block the main thread. */
export function countPrimes({ from, to }, { log }) {
  let count = 0;
  for (let n = Math.max(2, from); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  log(`${from}..${to}: ${count} primes`);
  return count;
}

/** Adds up its dependencies' outputs. */
export function total(_input, { deps }) {
  return Object.values(deps).reduce((sum, n) => sum + n, 0);
}

/** Kills its thread the first time it runs (`crashed` is shared memory, so the retry sees the mark). */
export function crashOnce({ crashed }, { attempt }) {
  if (Atomics.exchange(crashed, 0, 1) === 0) process.exit(1);
  return `ok on attempt ${attempt}`;
}

/** Waits until its signal aborts (a cancel or a timeout), then stops as a good body does. */
export function waitForAbort(_input, { signal }) {
  return new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
}
