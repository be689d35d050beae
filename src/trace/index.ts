/**
 * A run's trace in Chrome's Trace Event Format (Perfetto UI, chrome://tracing): `TraceRecorder` takes the
 * run's events and `finish()` gives the trace. Runtime-neutral, part of core.
 */
export { TraceRecorder } from "./trace-recorder.ts";
export {
  ATTEMPT_OUTCOMES,
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
} from "./chrome-trace.ts";
