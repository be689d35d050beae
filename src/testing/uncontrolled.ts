/**
 * Catches what a schedule cannot control, so it fails with a message instead of flaking: real timers
 * (setTimeout, setInterval) started while a schedule runs, and promise rejections nobody handled.
 * The globals are patched for the duration of one exploration (or replay) and restored after it; each
 * schedule starts with nothing seen (`begin`), and the real timers it caught are cleared when it ends
 * (`end`), so a flagged setInterval does not keep running (and the process alive). Between two
 * schedules only the kit's own code runs, and no real macrotask passes (the next schedule's first
 * step is the first), so what the watch sees still belongs to the schedule running. Patching once per
 * exploration rather than once per schedule saves swapping process-wide listeners thousands of times
 * (and, measured, the garbage that kept each schedule alive in the young generation).
 * The patches are process-wide: explore.ts lets only one exploration run at a time.
 */
type TimerFunction = (...args: any[]) => unknown;

export interface UncontrolledWatch {
  /** A schedule starts: nothing seen yet. */
  begin(): void;
  /** The first real timer the schedule started, as an error to fail it with. */
  escaped(): Error | undefined;
  /** The first unhandled rejection seen during the schedule. */
  rejection(): unknown;
  /** The schedule ended: the real timers it started are cleared. */
  end(): void;
  /** Puts the globals and listeners back and clears the real timers caught; harmless when repeated. */
  restore(): void;
}

export function watchUncontrolled(): UncontrolledWatch {
  const g = globalThis as unknown as Record<string, TimerFunction>;
  let escaped: Error | undefined;
  let rejection: unknown;
  let rejected = false;
  const originals: [string, TimerFunction][] = [];
  const started: [clear: TimerFunction, handle: unknown][] = [];
  for (const [name, clearName] of [
    ["setTimeout", "clearTimeout"],
    ["setInterval", "clearInterval"],
  ] as const) {
    const original = g[name];
    if (typeof original !== "function") continue;
    const clear = g[clearName];
    originals.push([name, original]);
    g[name] = function (this: unknown, ...args: unknown[]) {
      escaped ??= new Error(
        `the test started a real timer (${name}, ${String(args[1] ?? 0)} ms) that the controlled runtime does not control; ` +
          `use ctx.sleep in task bodies, t.runtime.setTimer, or a service model (t.service) for simulated latency`,
      );
      const handle = original.apply(this, args);
      if (typeof clear === "function") started.push([clear, handle]);
      return handle;
    };
  }
  const onRejection = (reason: unknown): void => {
    if (!rejected) [rejected, rejection] = [true, reason ?? new Error("a promise was rejected with undefined and never handled")];
  };
  const onEvent = (event: { reason: unknown; preventDefault(): void }): void => {
    event.preventDefault();
    onRejection(event.reason);
  };
  type Listener = (...args: any[]) => void;
  const host = globalThis as {
    process?: {
      on?(name: string, fn: Listener): void;
      off?(name: string, fn: Listener): void;
      listeners?(name: string): Listener[];
    };
    addEventListener?(name: string, fn: (event: any) => void): void;
    removeEventListener?(name: string, fn: (event: any) => void): void;
  };
  // During a schedule its unhandled rejections are its own: other listeners (a test runner's) are
  // set aside so the failure is reported once, as this schedule's, and put back afterwards.
  // Deno has a `process` too, but only the web event (with preventDefault) stops its test runner
  // from failing on the rejection as well.
  const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
  const proc = !isDeno && typeof host.process?.on === "function" ? host.process : undefined;
  const others = proc?.listeners?.("unhandledRejection") ?? [];
  if (proc !== undefined) {
    for (const other of others) proc.off?.("unhandledRejection", other);
    proc.on!("unhandledRejection", onRejection);
  } else host.addEventListener?.("unhandledrejection", onEvent);
  let restored = false;
  const end = (): void => {
    for (const [clear, handle] of started.splice(0)) clear.call(globalThis, handle);
  };
  return {
    begin() {
      escaped = undefined;
      rejected = false;
      rejection = undefined;
    },
    escaped: () => escaped,
    rejection: () => (rejected ? rejection : undefined),
    end,
    restore() {
      if (restored) return;
      restored = true;
      for (const [name, original] of originals) g[name] = original;
      end();
      if (proc !== undefined) {
        proc.off?.("unhandledRejection", onRejection);
        for (const other of others) proc.on!("unhandledRejection", other);
      } else host.removeEventListener?.("unhandledrejection", onEvent);
    },
  };
}
