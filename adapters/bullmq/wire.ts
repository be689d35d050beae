/**
 * What crosses Redis between a coordinator (the `bullmq()` provider) and an agent. Everything is
 * plain JSON data: an agent never evaluates anything it receives — a module is a path it resolves
 * under its own modules folder, a command an argv it spawns (no shell unless the spec and the agent
 * both allow it).
 *
 * - coordinator -> agent: one BullMQ job per attempt on the agent's queue (`AttemptData`, job id =
 *   the attempt's delivery id), and a Relay message on the agent's cancel topic (`CancelMessage`).
 * - agent -> coordinator: the job's progress events carry log lines (`ProgressData`), the job's return
 *   value is the attempt's outcome (`AttemptResult`: the processor returns it, it never throws for a
 *   failed body); a cancelled attempt's job fails (UnrecoverableError) so BullMQ never retries it.
 * - the agent describes itself in the agents hash (`AgentInfo`); its liveness is its Relay lease.
 */

/** Bumped when a shape below changes; an agent refuses an attempt of another version. */
export const WIRE_VERSION = 1;

/** The name and reason BullMQ records for a job cancelled by its coordinator. */
export const CANCELLED_JOB = "flotilla: attempt cancelled by its coordinator";

/** A thrown value as JSON: an error's parts and its own JSON-safe properties, or the value's string form. */
export interface ErrorWire {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
  /** It carried flotilla's error brand (a FlotillaError or subclass). */
  readonly brand?: boolean;
  /** Whether the thrown value was an error at all. */
  readonly error: boolean;
  /** Its own enumerable properties whose values are strings, numbers, booleans or null (`exitCode`, `stderrTail`, ...). */
  readonly props?: Record<string, string | number | boolean | null>;
}

/** A worker module's export: `path` is relative to the agent's modules folder. */
export interface ModuleBody {
  readonly kind: "worker-thread";
  readonly path: string;
  readonly export: string;
}

/** A command: `command(argv, options)`'s spec as JSON (stdin as base64, env `null` = remove). */
export interface CommandBody {
  readonly kind: "command";
  readonly argv: readonly string[];
  readonly options: {
    readonly env?: Record<string, string | null>;
    readonly inheritEnv?: boolean;
    readonly cwd?: string;
    readonly stdinBase64?: string;
    readonly shell?: boolean | string;
    readonly output?: "text" | "json" | "none";
    readonly maxOutputBytes?: number | null;
    readonly killGraceMs?: number;
  };
}

/** One attempt, as the BullMQ job's data. */
export interface AttemptData {
  readonly v: number;
  /** The attempt's idempotency key: the same for every delivery of this attempt. */
  readonly key: string;
  readonly taskId: string;
  readonly attempt: number;
  readonly body: ModuleBody | CommandBody;
  /** JSON text of `{ input?, deps, failures }` (failures as ErrorWire), checked against the size limit before it is sent. */
  readonly payload: string;
}

/** What the attempt's payload holds. */
export interface AttemptPayload {
  readonly input?: unknown;
  readonly deps: Record<string, unknown>;
  readonly failures: Record<string, ErrorWire>;
}

/** How an attempt ended, as the job's return value. */
export type AttemptResult =
  /** The body's output as JSON text (absent for undefined). */
  | { readonly t: "ok"; readonly json?: string }
  /** The body (or the local provider running it) threw. */
  | { readonly t: "threw"; readonly error: ErrorWire }
  /** The agent did not run it: see RemoteRefusal. */
  | { readonly t: "refused"; readonly refusal: "module" | "payload" | "output" | "kind" | "shell" | "version"; readonly message: string };

/** A job's progress update: log lines since the last one, each `[stream, line]`. */
export interface ProgressData {
  readonly log: ReadonlyArray<readonly ["log" | "stdout" | "stderr", string]>;
}

/** Sent on an agent's cancel topic: abort this job's attempt with this reason. */
export interface CancelMessage {
  readonly jobId: string;
  readonly reason: ErrorWire;
}

/** How an agent describes itself (JSON in the agents hash). */
export interface AgentInfo {
  readonly v: number;
  readonly id: string;
  /** The BullMQ queue it pulls from. */
  readonly queue: string;
  /** Attempts it runs at once: the node's slots. */
  readonly concurrency: number;
  /** The body kinds it runs ("worker-thread", "command"). */
  readonly kinds: readonly string[];
  readonly host: string;
  readonly pid: number;
  /** When it started (ms since the epoch, its clock). */
  readonly startedAt: number;
  /** Largest attempt payload it accepts, in bytes. */
  readonly maxPayloadBytes: number;
  /** Largest output it sends back, in bytes. */
  readonly maxOutputBytes: number;
  /** It is closing: it finishes what it runs and takes nothing new (coordinators place nothing more on it). */
  readonly draining?: boolean;
}

/** A thrown value in a form JSON keeps. Never throws. */
export function errorWire(thrown: unknown): ErrorWire {
  try {
    const e = thrown as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown } | null;
    if (typeof e === "object" && e !== null && typeof e.message === "string") {
      const props: Record<string, string | number | boolean | null> = {};
      let any = false;
      for (const [key, value] of Object.entries(e)) {
        if (key === "message" || key === "stack" || key === "name" || key === "code" || key === "cause") continue;
        if (value === null || typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) {
          props[key] = value;
          any = true;
        }
      }
      return {
        error: true,
        name: typeof e.name === "string" ? e.name : "Error",
        message: e.message,
        ...(typeof e.stack === "string" ? { stack: e.stack } : {}),
        ...(typeof e.code === "string" ? { code: e.code } : {}),
        ...(Symbol.for("flotilla.error") in e ? { brand: true } : {}),
        ...(any ? { props } : {}),
      };
    }
    return { error: false, name: typeof thrown, message: String(thrown) };
  } catch {
    return { error: false, name: "unknown", message: "a thrown value that could not be read" };
  }
}

/**
 * A body's share of an attempt's size, counted with its payload against `maxPayloadBytes` on both
 * sides: a command's spec (its argv, env and stdin cross Redis too); 0 for a worker module.
 */
export function bodyBytes(body: ModuleBody | CommandBody): number {
  return body.kind === "command" ? utf8Bytes(JSON.stringify(body)) : 0;
}

/** UTF-8 length of a string, without allocating its bytes. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
