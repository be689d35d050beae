/**
 * flotilla/worker-threads: run task bodies in worker threads. `workerTask(moduleUrl, exportName, input)`
 * describes a body (a module export called as `fn(input, ctx)` in a thread); `workerThreads(options)`
 * is the compute provider whose nodes are threads. A crashed thread is a lost node (its attempts are
 * requeued), and a cancelled body that ignores its signal has its thread terminated.
 */
export { workerThreads } from "./provider.ts";
export { workerTask, type WorkerTaskSpec, type WorkerTaskContext } from "./worker-task.ts";
export type { WorkerThreadsOptions, WorkerResourceLimits } from "./options.ts";
