/**
 * Progress for logs (stdout is not a terminal): one plain line per thing worth a line — a task's end,
 * a retry, a lost node, a line of a task's output — with no escape codes, so CI logs read cleanly.
 */
import type { RunEvent, RunEventName } from "../../src/events.ts";
import type { RunHandle } from "../../src/run.ts";
import { errorLine, formatDuration } from "../format.ts";
import type { Output, Progress } from "./progress.ts";

const SHOWN: readonly RunEventName[] = [
  "job:start",
  "task:start",
  "task:retry",
  "task:requeued",
  "task:succeeded",
  "task:failed",
  "task:cancelled",
  "task:skipped",
  "task:abandoned",
  "task:output",
  "node:lost",
  "node:preempted",
  "provider:error",
];

/**
 * The line an event gets in a log, or undefined for none. `startedAt` is when the task's first attempt
 * started (for its duration).
 */
export function plainLine(event: RunEvent, startedAt: number | undefined): string | undefined {
  switch (event.type) {
    case "job:start":
      return `▶ job "${event.job}": ${event.tasks} task${event.tasks === 1 ? "" : "s"}`;
    case "task:succeeded":
      if (event.restored) return `✓ ${event.taskId} (restored from the journal)`;
      return `✓ ${event.taskId}${startedAt === undefined ? "" : ` ${formatDuration(event.at - startedAt)}`}`;
    case "task:failed":
      return `✗ ${event.taskId}: ${errorLine(event.error)}${event.attempts > 1 ? ` (after ${event.attempts} attempts)` : ""}`;
    case "task:retry":
      return `↻ ${event.taskId}: attempt ${event.attempt} failed, retrying in ${formatDuration(event.delayMs)}: ${errorLine(event.error)}`;
    case "task:requeued":
      return `↻ ${event.taskId}: attempt ${event.attempt} lost its node, requeued: ${errorLine(event.error)}`;
    case "task:cancelled":
      return `⊘ ${event.taskId} cancelled`;
    case "task:skipped":
      return `- ${event.taskId} skipped: ${errorLine(event.error)}`;
    case "task:abandoned":
      return `! ${event.taskId}: attempt ${event.attempt} did not stop within the grace period; abandoned`;
    case "task:output":
      return `[${event.taskId}] ${event.line}`;
    case "node:lost":
      return `! node ${event.nodeId} of pool "${event.pool}" was lost: ${errorLine(event.error)}`;
    case "node:preempted":
      return `! node ${event.nodeId} of pool "${event.pool}" was preempted`;
    case "provider:error":
      return `! pool "${event.pool}": ${event.operation}${event.nodeId === undefined ? "" : ` of node ${event.nodeId}`} failed: ${errorLine(event.error)}`;
    default:
      return undefined;
  }
}

/** Events that show a run reading its journal is under way for good (until one, lines are held). */
const UNDER_WAY: ReadonlySet<string> = new Set(["task:start", "task:succeeded", "task:output"]);

export class PlainProgress implements Progress {
  readonly #out: Output;
  readonly #err: Output;
  /**
   * With a journal, lines wait until the run is under way: a journal that refuses the run (another
   * job's, held, unreadable) ends it before any task starts, and its "cancelled" lines would only hide
   * the refusal the command prints instead. Undefined once under way (or without a journal).
   */
  #held: string[] | undefined;

  constructor(handle: RunHandle<any>, options: { out: Output; err: Output; quiet: boolean; holdUntilUnderWay?: boolean }) {
    this.#out = options.out;
    this.#err = options.err;
    this.#held = options.holdUntilUnderWay ? [] : undefined;
    const firstStart = new Map<string, number>();
    const show = (event: RunEvent): void => {
      if (this.#held !== undefined && UNDER_WAY.has(event.type)) this.#release();
      if (event.type === "task:start") {
        if (!firstStart.has(event.taskId)) firstStart.set(event.taskId, event.at);
        return;
      }
      if (event.type === "task:output" && options.quiet) return;
      const line = plainLine(event, "taskId" in event ? firstStart.get(event.taskId) : undefined);
      if (line === undefined) return;
      if (this.#held !== undefined) this.#held.push(line);
      else this.#out.write(`${line}\n`);
    };
    for (const name of SHOWN) handle.on(name, show);
  }

  notice(line: string): void {
    this.#err.write(`${line}\n`);
  }

  finish(refused = false): void {
    if (refused) this.#held = undefined;
    else this.#release();
  }

  #release(): void {
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) for (const line of held) this.#out.write(`${line}\n`);
  }
}
