/**
 * One attempt of a command: its dependency file, the spawn in a process group of its own, output
 * capture, and how it ends — exit, signal, failed start, output cap, or cancel (SIGTERM to the group,
 * SIGKILL after the grace period). When the group's leader exits, whatever it left in its group is
 * killed, so a command's background children never outlive its attempt (nor hold its pipes open).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, unlinkSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { messageOf } from "../../src/errors.ts";
import { AbortGrace, Outcome, nodeStoppedError } from "../../src/provider-kit/index.ts";
import type { OutputStream, TaskContext } from "../../src/task-context.ts";
import { CommandFailedError, type CommandFailure } from "./errors.ts";
import type { LiveGroup, ProcessNode } from "./node.ts";
import type { ResolvedOptions } from "./options.ts";
import { LineReader, Tail } from "./output.ts";
import { reap, spare } from "./reaper.ts";
import { preview, type ResolvedCommand } from "./spec.ts";

/** What the provider fills in for options a command leaves out. */
type CommandDefaults = Pick<ResolvedOptions, "killGraceMs" | "maxOutputBytes">;

/** Dependency files up to this size are written synchronously: faster than three thread-pool trips. */
const SYNC_WRITE_LIMIT = 64 * 1024;

export async function runCommand(node: ProcessNode, cmd: ResolvedCommand, ctx: TaskContext<any>, defaults: CommandDefaults): Promise<unknown> {
  const signal = ctx.signal;
  signal.throwIfAborted();
  const json = depsJson(cmd, ctx);
  const path = node.depsFilePath();
  try {
    if (json.length <= SYNC_WRITE_LIMIT) writeFileSync(path, json);
    else await writeFile(path, json);
    signal.throwIfAborted();
    return await new CommandAttempt(node, cmd, ctx, defaults, path).promise;
  } finally {
    try {
      unlinkSync(path);
    } catch {
      // Already gone (the command may remove it itself).
    }
  }
}

/** `{ deps, failures }` as JSON; a dependency output JSON cannot represent fails the attempt, naming it. */
function depsJson(cmd: ResolvedCommand, ctx: TaskContext<any>): string {
  const deps = ctx.deps as Record<string, unknown>;
  // No prototype, so a dependency with the id "__proto__" is a key like any other (not a prototype to set).
  const failures: Record<string, unknown> = Object.create(null);
  for (const [id, error] of Object.entries(ctx.failures)) failures[id] = errorJson(error);
  try {
    return JSON.stringify({ deps, failures });
  } catch (error) {
    let culprit = "";
    for (const [id, value] of Object.entries(deps)) {
      try {
        JSON.stringify(value);
      } catch {
        culprit = ` (dependency "${id}")`;
        break;
      }
    }
    throw new CommandFailedError(
      { failure: "deps", argv: cmd.argv, taskId: ctx.taskId, attempt: ctx.attempt },
      `task "${ctx.taskId}" attempt ${ctx.attempt}: its dependencies' outputs cannot be written as JSON for FLOTILLA_DEPS_FILE${culprit}: ${messageOf(error)}`,
      { cause: error },
    );
  }
}

function errorJson(error: unknown): unknown {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, ...(typeof code === "string" ? { code } : {}), message: error.message };
}

function buildEnv(node: ProcessNode, cmd: ResolvedCommand, ctx: TaskContext<any>, depsFile: string): Record<string, string | undefined> {
  // No prototype, so a variable named "__proto__" is set like any other (not taken for a prototype).
  const env: Record<string, string | undefined> = Object.assign(Object.create(null), cmd.inheritEnv ? node.env : undefined);
  if (cmd.env !== undefined) {
    for (const name in cmd.env) {
      const value = cmd.env[name];
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
  }
  env.FLOTILLA_TASK_ID = ctx.taskId;
  env.FLOTILLA_ATTEMPT = String(ctx.attempt);
  env.FLOTILLA_DEPS_FILE = depsFile;
  return env;
}

/** Sends a signal to a whole process group; a group already gone is fine. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

class CommandAttempt implements LiveGroup {
  /** The attempt's result: the first of its ends (a failed start, the close of its streams) settles it. */
  readonly #outcome = new Outcome<unknown>();
  readonly #done = new Outcome<void>();
  readonly #node: ProcessNode;
  readonly #cmd: ResolvedCommand;
  readonly #ctx: TaskContext<any>;
  readonly #graceMs: number;
  readonly #maxBytes: number;
  readonly #child: ChildProcess | undefined = undefined;
  /** The group's id (its leader's pid); 0 when it did not start. */
  readonly #pid: number = 0;
  readonly #stderr: LineReader;
  readonly #stdout: LineReader;
  readonly #tail = new Tail();
  readonly #parts: string[] = [];
  #bytes = 0;
  #overLimit = false;
  /** SIGTERM to the group on abort (or past the output cap), SIGKILL when the grace runs out; released when its leader exits. */
  #grace: AbortGrace | undefined = undefined;
  /** The leader exited and the rest of its group was killed. */
  #exited = false;
  /** After the leader exited: how long the attempt still waits for its output pipes. */
  #drainTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  #drain: ReturnType<typeof setImmediate> | undefined = undefined;

  constructor(node: ProcessNode, cmd: ResolvedCommand, ctx: TaskContext<any>, defaults: CommandDefaults, depsFile: string) {
    this.#node = node;
    this.#cmd = cmd;
    this.#ctx = ctx;
    this.#graceMs = cmd.killGraceMs ?? defaults.killGraceMs;
    this.#maxBytes = cmd.output === "none" ? Infinity : (cmd.maxOutputBytes ?? defaults.maxOutputBytes);
    const log = (line: string, stream: OutputStream) => ctx.log(line, stream);
    this.#stdout = new LineReader("stdout", log);
    this.#stderr = new LineReader("stderr", log);

    let child: ChildProcess;
    try {
      child = spawn(cmd.file, cmd.args as string[], {
        cwd: cmd.cwd,
        env: buildEnv(node, cmd, ctx, depsFile),
        // A process group of its own, so a cancel reaches the command's children too.
        detached: true,
        stdio: [cmd.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
    } catch (error) {
      // Synchronous spawn errors are argument errors the checks in command() did not foresee.
      this.#fail("spawn", `could not be started: ${messageOf(error)}`, { cause: error });
      this.#done.resolve();
      return;
    }
    this.#child = child;
    child.on("error", (error) => this.#onError(error));
    if (child.pid === undefined) return; // it failed to start: "error" follows
    const pid = (this.#pid = child.pid);
    this.#grace = new AbortGrace({ graceMs: this.#graceMs, stop: () => killGroup(pid, "SIGTERM"), escalate: () => killGroup(pid, "SIGKILL") });
    node.add(this);
    child.stdout!.on("data", (chunk: Uint8Array) => this.#onStdout(chunk));
    child.stderr!.on("data", (chunk: Uint8Array) => this.#tail.push(this.#stderr.push(chunk)));
    child.on("exit", () => this.#onExit());
    child.on("close", (code: number | null, signal: NodeJS.Signals | null) => this.#onClose(code, signal));
    reap(pid); // stopped by the reaper if this process dies first
    if (cmd.stdin !== undefined) {
      // A command that exits without reading its stdin makes this write fail (EPIPE); that is its business.
      child.stdin!.on("error", () => {});
      child.stdin!.end(cmd.stdin);
    }
    this.#grace.watch(ctx);
  }

  /** Settles with the command's output, or rejects with why it failed (or the abort's reason). */
  get promise(): Promise<unknown> {
    return this.#outcome.promise;
  }

  /** Settles once its leader exited and its output streams closed (or it never started). */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  /** SIGKILL to the group now (the node is stopping, or the program exits). */
  kill(): void {
    if (this.#pid !== 0 && !this.#exited) killGroup(this.#pid, "SIGKILL");
  }

  #onStdout(chunk: Uint8Array): void {
    if (this.#overLimit) return;
    this.#bytes += chunk.length;
    if (this.#bytes > this.#maxBytes) {
      this.#overLimit = true;
      this.#grace!.stopNow(); // SIGTERM, then SIGKILL after the grace period unless its leader exits first
      return;
    }
    const text = this.#stdout.push(chunk);
    if (this.#cmd.output !== "none") this.#parts.push(text);
  }

  #onExit(): void {
    this.#grace!.release(); // no SIGKILL for a leader gone, nor a SIGTERM on a later abort
    // Whatever the leader left behind in its group goes with it (and stops holding the pipes).
    killGroup(this.#pid, "SIGKILL");
    spare(this.#pid); // at once: its pid may now be given to another process
    this.#exited = true;
    // A process outside the group (one that made a session of its own) may still hold the pipes:
    // after the grace period the attempt stops waiting for them. Not straight from the timer: timers
    // run before I/O in a loop turn, so after a blocked loop the output still in the pipes would be
    // lost; an immediate runs after the I/O poll has read it.
    const child = this.#child!;
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = undefined;
      this.#drain = setImmediate(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      });
    }, this.#graceMs);
  }

  #onError(error: Error): void {
    if (this.#pid !== 0) return; // a failed write or kill: the process itself still ends normally
    const code = (error as NodeJS.ErrnoException).code;
    const cmd = this.#cmd;
    const cwd = cmd.cwd ?? process.cwd();
    let why: string;
    if (code === "ENOENT" && cmd.cwd !== undefined && !existsSync(cmd.cwd)) why = `could not be started: its cwd "${cwd}" does not exist (ENOENT)`;
    else if (code === "ENOENT") why = `was not found (ENOENT): "${cmd.file}" is not ${cmd.file.includes("/") ? "an existing file" : "on PATH"} (cwd "${cwd}")`;
    else if (code === "EACCES") why = `could not be started: "${cmd.file}" is not executable (EACCES, cwd "${cwd}")`;
    else why = `could not be started (${code ?? error.message}, cwd "${cwd}")`;
    this.#fail("spawn", why, { cause: error });
    this.#done.resolve();
  }

  #onClose(code: number | null, signal: NodeJS.Signals | null): void {
    this.#grace!.release();
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    if (this.#drain !== undefined) clearImmediate(this.#drain);
    this.#node.delete(this);
    this.#done.resolve();
    this.#tail.push(this.#stderr.end());
    const last = this.#stdout.end();
    if (this.#outcome.settled) return;
    const aborted = this.#ctx.signal;
    if (aborted.aborted) {
      this.#outcome.reject(aborted.reason);
    } else if (this.#node.stopped) {
      this.#outcome.reject(nodeStoppedError(this.#node.id, this.#ctx, `command ${preview(this.#cmd.argv)}`, "it was killed"));
    } else if (this.#overLimit) {
      this.#fail(
        "output-limit",
        `wrote more than ${this.#maxBytes} bytes to stdout (maxOutputBytes) and was stopped; raise maxOutputBytes, or write large output to a file`,
        undefined,
        code,
        signal,
      );
    } else if (signal !== null) {
      this.#fail("signal", `was killed by ${signal}`, undefined, code, signal);
    } else if (code !== 0) {
      this.#fail("exit", `exited with code ${code}`, undefined, code, signal);
    } else if (this.#cmd.output === "none") {
      this.#succeed(undefined);
    } else {
      this.#parts.push(last);
      const text = this.#parts.join("");
      if (this.#cmd.output === "text") this.#succeed(text.endsWith("\n") ? text.slice(0, text.endsWith("\r\n") ? -2 : -1) : text);
      else this.#succeedJson(text);
    }
  }

  #succeedJson(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const shown = text.trim().length === 0 ? "stdout was empty" : `stdout began ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)}`;
      this.#fail("output-json", `exited 0 but its stdout is not valid JSON (output: "json"); ${shown}`, { cause: error }, 0);
      return;
    }
    this.#succeed(value);
  }

  #succeed(value: unknown): void {
    this.#outcome.resolve(value);
  }

  #fail(failure: CommandFailure, why: string, options?: { cause?: unknown }, exitCode: number | null = null, signal: string | null = null): void {
    if (this.#outcome.settled) return;
    const stderrTail = this.#tail.text();
    const ctx = this.#ctx;
    const message =
      `task "${ctx.taskId}" attempt ${ctx.attempt}: command ${preview(this.#cmd.argv)} ${why}` +
      (stderrTail !== ""
        ? `\nstderr (last lines):\n${stderrTail.replace(/^/gm, "  ")}`
        : failure === "exit" || failure === "signal"
          ? "; it wrote nothing to stderr"
          : "");
    this.#outcome.reject(
      new CommandFailedError({ failure, argv: this.#cmd.argv, taskId: ctx.taskId, attempt: ctx.attempt, exitCode, signal, stderrTail }, message, options),
    );
  }
}
