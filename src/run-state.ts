/**
 * What every room of a run reads: its task table, runtime, options and events, whether the runtime
 * explores schedules, the run's phase and its cancellation. The executor owns the phase and the
 * cancellation; the rooms read them.
 */
import type { Attempt } from "./attempt.ts";
import type { CancelledError } from "./errors.ts";
import type { ResolvedRunOptions } from "./run-options.ts";
import type { RunEventBus } from "./run-events.ts";
import type { Runtime } from "./runtime.ts";
import type { TaskTable } from "./task-table.ts";
import { attemptLabel, type AttemptEvent } from "./trace-labels.ts";

export type Phase = "created" | "running" | "ending" | "ended";

export class RunState {
  readonly t: TaskTable;
  readonly runtime: Runtime;
  readonly options: ResolvedRunOptions;
  readonly events: RunEventBus;
  /** True when the runtime explores schedules (it has `defer`): timers then carry trace labels. */
  readonly controlled: boolean;
  phase: Phase = "created";
  /** True while the run's journal is being read: nothing is made ready before it says what to restore. */
  opening = false;
  /** Set once the whole run is cancelled (by its signal, `cancel()`, failFast or a fault). */
  cancel: CancelledError | undefined = undefined;

  constructor(t: TaskTable, options: ResolvedRunOptions, events: RunEventBus) {
    this.t = t;
    this.runtime = options.runtime;
    this.options = options;
    this.events = events;
    this.controlled = typeof options.runtime.defer === "function";
  }

  /** The trace label of a timer or completion of attempt `a`, only under a controlled runtime. */
  label(event: AttemptEvent, a: Attempt): string | undefined {
    return this.controlled ? attemptLabel(event, a.taskId, a.attempt) : undefined;
  }
}
