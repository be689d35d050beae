/**
 * flotilla/worker-threads: run task bodies in worker threads. `workerTask(moduleUrl, exportName, input)`
 * describes a body (a module export called as `fn(input, ctx)` in a thread); `workerThreads(options)`
 * is the compute provider whose nodes are threads; `inThread(options)` runs the same bodies in the
 * calling thread (trusted modules, no isolation). A crashed thread is a lost node (its attempts are
 * requeued), and a cancelled body that ignores its signal has its thread terminated.
 *
 * Files, as in every adapter: provider.ts (the factory), options.ts (its options and their check),
 * spec.ts (the task body), node.ts (one node: a thread), attempt.ts (one attempt on it, with its abort
 * and grace), errors.ts (its code and errors); specific to threads: wire.ts (what crosses to a
 * thread), thread-main.ts and thread-script.ts (the code that runs in one); in-thread.ts (`inThread()`).
 */
export { workerThreads } from "./provider.ts";
export { inThread, type InThreadOptions } from "./in-thread.ts";
export { workerTask, type WorkerTaskSpec, type WorkerTaskContext } from "./spec.ts";
export type { WorkerThreadsOptions, WorkerResourceLimits } from "./options.ts";
export { WORKER_THREADS_ERROR_CODES } from "./errors.ts";
