/** flotilla: run a graph of dependent tasks, in dependency order, cancellable at any moment. */
export { Job } from "./job.ts";
export { run, start, RunHandle } from "./run.ts";
export type { RunOptions } from "./run-options.ts";
export {
  memoryJournal,
  JOURNAL_FORMAT,
  type Journal,
  type MemoryJournal,
  type JournalRecord,
  type JournalJobRecord,
  type JournalRunRecord,
  type JournalTaskRecord,
  type JournalTaskShape,
} from "./journal.ts";
export type { TaskOptions, BackoffOptions, SatisfyOptions } from "./task-options.ts";
export type { TaskContext, TaskBody, TaskSpec, OutputStream } from "./task-context.ts";
export type { RunResult, TaskResult, TaskResults, JobStatus, TaskStatus } from "./result.ts";
export type { RunEvents, RunEvent, RunEventName } from "./events.ts";
export {
  FlotillaError,
  CycleError,
  TimeoutError,
  CancelledError,
  DependencyFailedError,
  NodeLostError,
  isFlotillaError,
  type ErrorCode,
  type CoreErrorCode,
  type CancelSource,
} from "./errors.ts";
export { declareErrorCodes, declareFaultPoints, errorCodes, faultPoints, type Declaration } from "./vocabulary.ts";
export type { CoreFaultPoint } from "./fault-points.ts";
export { realRuntime, type Runtime, type TimerHandle, type FaultPoint, type FaultContext, type FaultAction, type RunObservation } from "./runtime.ts";
export { inProcess, type ComputeProvider, type ProviderNode, type NodeReport, type NodePriority } from "./provider.ts";
export { pool, type Pool, type PoolEvent, type SampleMetrics } from "./shared-pool.ts";
export type { PoolOptions } from "./pool-options.ts";
export type { PoolMetrics, PoolTargets, AutoscalePolicy, NodeCounts, Demand } from "./autoscale.ts";
export { STARVATION_BOUND, type PoolStats, type PoolRunStats, type PoolEventMap } from "./node-pool.ts";
export {
  TraceRecorder,
  type ChromeTrace,
  type TraceEvent,
  type TraceInfo,
  type TaskTrace,
  type TaskTraceStatus,
  type JobTraceStatus,
  type AttemptOutcome,
  type AttemptSpan,
  type AttemptArgs,
  type NodeSpan,
  type NodeArgs,
  type JobSpan,
  type TraceInstant,
  type TraceCounter,
  type TraceMetadata,
  type TraceCategory,
} from "./trace/index.ts";
