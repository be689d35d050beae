/** Options of `startAgent()`, the events it reports, and their single check. */
import { realpathSync, statSync } from "node:fs";
import { availableParallelism, hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { FlotillaError, describe } from "../../../src/errors.ts";
import { checkProvider, type ComputeProvider } from "../../../src/provider.ts";
import { checkOptionsObject, invalidOption, MAX_TIMER_MS } from "../../../src/validation.ts";
import { resolveConnection, type RedisConnection, type ResolvedConnection } from "../connection.ts";
import { checkAgentId, checkPrefix, checkQueueName } from "../names.ts";
import type { AgentInfo, AttemptResult } from "../wire.ts";

/**
 * @example
 * const agent = await startAgent({
 *   connection: "redis://127.0.0.1:6379", queue: "builds", modules: "./tasks",
 *   providers: [workerThreads({ threads: 4, tasksPerThread: 1 }), childProcess({ slots: 4 })],
 * });
 */
export interface AgentOptions {
  /** Where Redis is: a URL, ioredis options, or an ioredis client of yours (never closed by the agent). */
  readonly connection: RedisConnection;
  /** The queue name the coordinator's `bullmq({ queue })` uses. */
  readonly queue: string;
  /** The agent's id. @default host name, pid and 4 random characters */
  readonly name?: string;
  /** BullMQ's key prefix. @default "bull" */
  readonly prefix?: string;
  /** Attempts run at once (the node's slots). @default os.availableParallelism() */
  readonly concurrency?: number;
  /** The local providers attempts run on, by kind: e.g. `[workerThreads({ threads: n, tasksPerThread: 1 }), childProcess({ slots: n })]`. */
  readonly providers: readonly ComputeProvider<any>[];
  /** The folder worker modules are allowed from (a path or file: URL); module attempts are refused without it. */
  readonly modules?: string | URL;
  /** Whether a command may ask for a shell. @default false */
  readonly allowShell?: boolean;
  /** Largest attempt payload accepted, in bytes. @default 1_048_576 */
  readonly maxPayloadBytes?: number;
  /** Largest output sent back, in bytes. @default 1_048_576 */
  readonly maxOutputBytes?: number;
  /** The agent's lease in the Relay (its heartbeat runs every third of it). @default 5000 */
  readonly leaseMs?: number;
  /** BullMQ's lockDuration and stalledInterval for the agent's worker. @default 10000 */
  readonly lockDurationMs?: number;
  /** How long start waits for Redis before it gives up (E_REDIS_UNAVAILABLE). @default 15000 */
  readonly startTimeoutMs?: number;
  /** Aborting it closes the agent (it drains its running attempts). */
  readonly signal?: AbortSignal;
  /** Hears what the agent does; Redis and BullMQ errors come here ("error"), never thrown. */
  readonly onEvent?: (event: AgentEvent) => void;
}

/** How an attempt ended, for events: its result's kind, or "cancelled". */
export type AttemptOutcome = AttemptResult["t"] | "cancelled";

/** What the agent reports through `onEvent`. */
export type AgentEvent =
  | { readonly type: "ready"; readonly info: AgentInfo }
  | {
      readonly type: "attempt:start";
      readonly jobId: string;
      readonly taskId: string;
      readonly attempt: number;
      readonly kind: string;
      /** A second delivery of an attempt running here: it waits for that job's outcome instead of running the body again. */
      readonly duplicateOf?: string;
    }
  | {
      readonly type: "attempt:end";
      readonly jobId: string;
      readonly taskId: string;
      readonly attempt: number;
      readonly outcome: AttemptOutcome;
      /** The refusal, or the error's name and message, for messages. */
      readonly detail?: string;
      readonly durationMs: number;
    }
  /** A cancel from the coordinator stopped an attempt: from the message to the attempt settled. */
  | { readonly type: "cancel"; readonly jobId: string; readonly stoppedAfterMs: number }
  | { readonly type: "error"; readonly error: unknown };

export interface ResolvedAgentOptions {
  readonly connection: ResolvedConnection;
  readonly queue: string;
  readonly id: string;
  readonly prefix: string;
  readonly concurrency: number;
  readonly providers: readonly ComputeProvider<any>[];
  /** The modules folder's real path, or undefined. */
  readonly modules: string | undefined;
  readonly allowShell: boolean;
  readonly maxPayloadBytes: number;
  readonly maxOutputBytes: number;
  readonly leaseMs: number;
  readonly lockDurationMs: number;
  readonly startTimeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly onEvent: (event: AgentEvent) => void;
}

const WHERE = "startAgent()";
const NAMES = [
  "connection",
  "queue",
  "name",
  "prefix",
  "concurrency",
  "providers",
  "modules",
  "allowShell",
  "maxPayloadBytes",
  "maxOutputBytes",
  "leaseMs",
  "lockDurationMs",
  "startTimeoutMs",
  "signal",
  "onEvent",
];
export const DEFAULT_MAX_BYTES = 1_048_576;

/** Checks every option once; throws E_INVALID_OPTION naming the option, what was expected and what came. */
export function resolveAgentOptions(options: AgentOptions): ResolvedAgentOptions {
  checkOptionsObject(WHERE, options, NAMES);
  const o = options;
  const concurrency = o.concurrency ?? availableParallelism();
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw invalidOption(WHERE, "concurrency", "an integer >= 1", concurrency);
  if (!Array.isArray(o.providers) || o.providers.length === 0) {
    throw invalidOption(WHERE, "providers", "a non-empty array of local providers (workerThreads(), childProcess())", o.providers);
  }
  o.providers.forEach((p, i) => checkProvider(`${WHERE}: providers[${i}]`, p));
  if (o.allowShell !== undefined && typeof o.allowShell !== "boolean") throw invalidOption(WHERE, "allowShell", "a boolean", o.allowShell);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalidOption(WHERE, "signal", "an AbortSignal", o.signal);
  if (o.onEvent !== undefined && typeof o.onEvent !== "function") throw invalidOption(WHERE, "onEvent", "a function", o.onEvent);
  const leaseMs = checkMs("leaseMs", o.leaseMs ?? 5_000, 30);
  const lockDurationMs = checkMs("lockDurationMs", o.lockDurationMs ?? 10_000, 100);
  const onEvent = o.onEvent;
  return {
    connection: resolveConnection(WHERE, o.connection),
    queue: checkQueueName(WHERE, o.queue),
    id: o.name === undefined ? defaultId() : checkAgentId(WHERE, o.name),
    prefix: checkPrefix(WHERE, o.prefix),
    concurrency,
    providers: [...o.providers],
    modules: o.modules === undefined ? undefined : modulesFolder(o.modules),
    allowShell: o.allowShell ?? false,
    maxPayloadBytes: checkBytes("maxPayloadBytes", o.maxPayloadBytes),
    maxOutputBytes: checkBytes("maxOutputBytes", o.maxOutputBytes),
    leaseMs,
    lockDurationMs,
    startTimeoutMs: checkMs("startTimeoutMs", o.startTimeoutMs ?? 15_000, 1),
    signal: o.signal,
    // A listener that throws must not break the agent: its error is dropped here, as it has nowhere to go.
    onEvent: onEvent === undefined ? () => {} : (event) => void tryCall(() => onEvent(event)),
  };
}

function tryCall(fn: () => void): void {
  try {
    fn();
  } catch {
    // See above.
  }
}

function checkMs(option: string, value: unknown, min: number): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= MAX_TIMER_MS) return value;
  throw invalidOption(WHERE, option, `an integer number of milliseconds from ${min} to ${MAX_TIMER_MS}`, value);
}

function checkBytes(option: string, value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_BYTES;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 1) return value;
  throw invalidOption(WHERE, option, "an integer number of bytes >= 1", value);
}

/** The modules folder's real path: it must exist and be a directory, so a typo fails at start, not per attempt. */
function modulesFolder(value: unknown): string {
  let path: string;
  if (value instanceof URL && value.protocol === "file:") path = fileURLToPath(value);
  else if (typeof value === "string" && value.length > 0 && !value.includes("\0")) path = value;
  else throw invalidOption(WHERE, "modules", "a folder's path or file: URL", value);
  try {
    const real = realpathSync(path);
    if (statSync(real).isDirectory()) return real;
  } catch {
    // Reported below.
  }
  throw new FlotillaError("E_INVALID_OPTION", `${WHERE}: option "modules" must name an existing folder, received ${describe(path)}`);
}

/** `host-pid-abcd`, with what agent ids do not allow replaced by "-". */
function defaultId(): string {
  const random = Math.random().toString(36).slice(2, 6).padEnd(4, "0");
  const host = hostname()
    .replace(/[^A-Za-z0-9_-]/g, "-")
    .slice(0, 24);
  return `${host || "agent"}-${process.pid}-${random}`.slice(-40);
}
