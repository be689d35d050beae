/**
 * What crosses between the provider and a local VM's agent, over the process's IPC channel (JSON).
 *
 * - provider -> agent: `run` (one attempt: the id, the task, and its payload as a JSON string, so a
 *   value JSON cannot write fails here with a clear message instead of inside `process.send`), `abort`.
 * - agent -> provider: `ready` (once, when it can run attempts), `spawned` (a command's process group,
 *   so the provider can kill it even if the agent dies first), `log` (a line for `ctx.log`), and one of
 *   `ok` (the output as JSON text, absent for undefined), `threw` (the body's error) or `failed` (the
 *   spec could not run as asked) per attempt.
 *
 * `errorWire` runs on both sides: the agent gets its source text (see agent-script.ts), so it must not
 * reference anything outside its own body.
 */
import type { VmTaskFailedDetails } from "../errors.ts";

/** A thrown value as JSON: an error's parts, or the value's string form. */
export interface ErrorWire {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  /** A string `code` property, when it had one. */
  readonly code?: string;
  /** It carried flotilla's error brand (a FlotillaError or subclass). */
  readonly brand?: boolean;
  /** Whether the thrown value was an error at all. */
  readonly error: boolean;
}

/** A command, resolved by the provider: what the agent spawns. */
export interface CommandWire {
  readonly kind: "command";
  readonly argv: readonly string[];
  readonly file: string;
  readonly args: readonly string[];
  /** Variables over the inherited environment; null removes one. */
  readonly env: Record<string, string | null> | undefined;
  readonly inheritEnv: boolean;
  readonly cwd: string | undefined;
  /** Base64 of the bytes written to stdin, or undefined for none. */
  readonly stdin: string | undefined;
  readonly output: "text" | "json" | "none";
  readonly maxOutputBytes: number | null;
  readonly killGraceMs: number;
}

/** A worker module's export, called in the agent as `fn(input, ctx)`. */
export interface ModuleWire {
  readonly kind: "module";
  readonly module: string;
  readonly export: string;
}

/** What the payload of a `run` message holds, as JSON text. */
export interface RunPayload {
  readonly input?: unknown;
  readonly deps: Record<string, unknown>;
  readonly failures: Record<string, ErrorWire>;
}

export type ToAgent =
  | {
      readonly t: "run";
      readonly id: number;
      readonly taskId: string;
      readonly attempt: number;
      readonly body: CommandWire | ModuleWire;
      readonly payload: string;
    }
  | { readonly t: "abort"; readonly id: number; readonly reason: ErrorWire };

export type FromAgent =
  | { readonly t: "ready"; readonly pid: number }
  | { readonly t: "spawned"; readonly id: number; readonly pid: number }
  | { readonly t: "exited"; readonly id: number; readonly pid: number }
  | { readonly t: "log"; readonly id: number; readonly line: string; readonly stream: "log" | "stdout" | "stderr" }
  | { readonly t: "ok"; readonly id: number; readonly json?: string }
  | { readonly t: "threw"; readonly id: number; readonly error: ErrorWire }
  | ({ readonly t: "failed"; readonly id: number; readonly message: string; readonly cause?: ErrorWire } & Pick<
      VmTaskFailedDetails,
      "failure" | "exitCode" | "signal" | "stderrTail"
    >);

/** A thrown value in a form JSON keeps. Self-contained: the agent gets its source text. */
export function errorWire(thrown: unknown): ErrorWire {
  try {
    const e = thrown as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown } | null;
    if (typeof e === "object" && e !== null && typeof e.message === "string") {
      return {
        error: true,
        name: typeof e.name === "string" ? e.name : "Error",
        message: e.message,
        ...(typeof e.stack === "string" ? { stack: e.stack } : {}),
        ...(typeof e.code === "string" ? { code: e.code } : {}),
        ...(Symbol.for("flotilla.error") in e ? { brand: true } : {}),
      };
    }
    return { error: false, name: typeof thrown, message: String(thrown) };
  } catch {
    return { error: false, name: "unknown", message: "a thrown value that could not be read" };
  }
}
