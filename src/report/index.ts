/**
 * flotilla/report: reading a run's trace (`result.trace` of a run with `trace: true`, or
 * `TraceRecorder.finish()`). `htmlReport` writes one self-contained HTML page with the run's timeline;
 * `criticalPath` and `summarize` give the same facts as plain data. Runtime-neutral, no dependencies.
 */
export { htmlReport, type HtmlReportOptions } from "./html-report.ts";
export { criticalPath, type CriticalPath, type CriticalStep } from "./critical-path.ts";
export { summarize, type RunSummary, type SummarizeOptions } from "./summarize.ts";
export type { ChromeTrace, AttemptOutcome, TaskTrace, TraceEvent } from "../trace/index.ts";
