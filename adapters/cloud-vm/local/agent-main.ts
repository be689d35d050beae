/**
 * The agent a local VM runs: a process that reads attempts from its IPC channel, runs each — a worker
 * module's export in this process, or a command in a process group of its own — and answers with the
 * outcome. Its source text is the agent's script (agent-script.ts), so it imports nothing: it gets its
 * one helper as an argument and Node's modules with `import()`; it runs the same under Node and Deno.
 *
 * A command gets SIGTERM on abort, SIGKILL `killGraceMs` later; when its leader exits, whatever it left
 * in its group is killed. When the channel closes (the provider deleted the VM, or died), every group
 * is killed and the agent exits. Timers here are real ones: this is a separate process, and a real
 * machine, whatever runtime the pool uses.
 */
import type { CommandWire, ErrorWire, FromAgent, ModuleWire, RunPayload, ToAgent } from "./wire.ts";

type Send = (message: FromAgent) => void;

export async function agentMain(errorWire: (thrown: unknown) => ErrorWire): Promise<void> {
  const { spawn } = await import("node:child_process");
  const fs = await import("node:fs");
  const path = await import("node:path");
  const { Buffer } = await import("node:buffer");
  const proc = process as NodeJS.Process & { send(message: unknown): boolean };
  const TAIL_CHARS = 4 * 1024;
  const TAIL_LINES = 20;

  /** Live attempts by id: how to abort each, and (commands) how to kill it now. */
  const live = new Map<number, { abort(reason: unknown): void; kill(): void }>();
  // The VM's private directory, made and removed by the provider (a killed agent cleans nothing up).
  const dir = process.argv[process.argv.length - 1]!;

  const send: Send = (message) => {
    try {
      if (proc.connected) proc.send(message);
    } catch {
      // The channel closed: the provider is gone, and "disconnect" ends this process.
    }
  };

  /** An error from the provider (an abort reason, a dependency's failure) as an Error here. */
  const revive = (wire: ErrorWire): unknown => {
    if (!wire.error) return wire.message;
    const error = new Error(wire.message);
    Object.defineProperty(error, "name", { value: wire.name, configurable: true, writable: true });
    if (wire.code !== undefined) Object.defineProperty(error, "code", { value: wire.code, configurable: true, writable: true, enumerable: true });
    // The brand makes `instanceof CancelledError` / `TimeoutError` hold in a body that imports flotilla.
    if (wire.brand) Object.defineProperty(error, Symbol.for("flotilla.error"), { value: true });
    return error;
  };

  /** Reports `text` line by line (a final "\r" dropped), keeping a partial last line for the next chunk. */
  const lines = (stream: "stdout" | "stderr", id: number) => {
    const decoder = new TextDecoder();
    let pending = "";
    return {
      push(chunk: Uint8Array): string {
        const text = decoder.decode(chunk, { stream: true });
        const parts = (pending + text).split("\n");
        pending = parts.pop()!;
        for (const line of parts) send({ t: "log", id, line: line.endsWith("\r") ? line.slice(0, -1) : line, stream });
        return text;
      },
      end(): string {
        const text = decoder.decode();
        const last = pending + text;
        pending = "";
        if (last.length > 0) send({ t: "log", id, line: last, stream });
        return text;
      },
    };
  };

  const runModule = (id: number, taskId: string, attempt: number, body: ModuleWire, payload: RunPayload): void => {
    const controller = new AbortController();
    live.set(id, { abort: (reason) => controller.abort(reason), kill: () => {} });
    const settle = (message: FromAgent): void => {
      if (live.delete(id)) send(message);
    };
    const failures: Record<string, unknown> = Object.create(null);
    for (const [key, wire] of Object.entries(payload.failures)) failures[key] = revive(wire);
    const ctx = {
      taskId,
      attempt,
      signal: controller.signal,
      deps: payload.deps,
      failures,
      log: (line: string) => {
        if (live.has(id)) send({ t: "log", id, line: String(line), stream: "log" });
      },
    };
    import(body.module)
      .then(
        async (ns: Record<string, unknown>) => {
          if (!(body.export in ns)) {
            const exports = Object.keys(ns);
            settle({
              t: "failed",
              id,
              failure: "export",
              message: `module ${body.module} has no export "${body.export}"; its exports: ${exports.length > 0 ? exports.join(", ") : "(none)"}`,
            });
            return;
          }
          const fn = ns[body.export];
          if (typeof fn !== "function") {
            const type = fn === null ? "null" : Array.isArray(fn) ? "an array" : `a ${typeof fn}`;
            settle({ t: "failed", id, failure: "type", message: `export "${body.export}" of module ${body.module} is ${type}, not a function` });
            return;
          }
          if (controller.signal.aborted) throw controller.signal.reason;
          const output = await fn(payload.input, ctx);
          let json: string | undefined;
          try {
            json = JSON.stringify(output);
          } catch (error) {
            settle({
              t: "failed",
              id,
              failure: "output",
              message: `the output of export "${body.export}" (module ${body.module}) cannot be sent back from the VM as JSON: ${(error as Error).message}`,
            });
            return;
          }
          settle(json === undefined ? { t: "ok", id } : { t: "ok", id, json });
        },
        (error: unknown) => {
          settle({
            t: "failed",
            id,
            failure: "module",
            message: `cannot load module ${body.module} on the VM: ${errorWire(error).message}`,
            cause: errorWire(error),
          });
        },
      )
      .catch((error: unknown) => settle({ t: "threw", id, error: errorWire(error) }));
  };

  const killGroup = (pid: number, signal: "SIGTERM" | "SIGKILL"): void => {
    try {
      process.kill(-pid, signal);
    } catch {
      // Nothing left in the group.
    }
  };

  const runCommand = (id: number, taskId: string, attempt: number, cmd: CommandWire, payload: RunPayload): void => {
    const depsFile = path.join(dir, `deps-${id}.json`);
    let done = false;
    const settle = (message: FromAgent): void => {
      if (done) return;
      done = true;
      live.delete(id);
      try {
        fs.unlinkSync(depsFile);
      } catch {
        // Already gone (the command may remove it itself).
      }
      send(message);
    };
    try {
      fs.writeFileSync(depsFile, JSON.stringify({ deps: payload.deps, failures: payload.failures }));
    } catch (error) {
      settle({ t: "failed", id, failure: "input", message: `could not write FLOTILLA_DEPS_FILE on the VM: ${errorWire(error).message}` });
      return;
    }
    const env: Record<string, string | undefined> = Object.assign(Object.create(null), cmd.inheritEnv ? process.env : undefined);
    for (const [name, value] of Object.entries(cmd.env ?? {})) {
      if (value === null) delete env[name];
      else env[name] = value;
    }
    env.FLOTILLA_TASK_ID = taskId;
    env.FLOTILLA_ATTEMPT = String(attempt);
    env.FLOTILLA_DEPS_FILE = depsFile;
    const where = `command ${JSON.stringify(cmd.argv)}`;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd.file, cmd.args as string[], {
        cwd: cmd.cwd,
        env,
        detached: true, // a group of its own: an abort reaches the command's children too
        stdio: [cmd.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
    } catch (error) {
      settle({ t: "failed", id, failure: "spawn", message: `${where} could not be started: ${errorWire(error).message}` });
      return;
    }
    const pid = child.pid;
    let aborted = false;
    let abortReason: unknown;
    let overLimit = false;
    let exited = false;
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const stop = (): void => {
      if (pid === undefined || exited) return;
      killGroup(pid, "SIGTERM");
      killTimer ??= setTimeout(() => killGroup(pid, "SIGKILL"), cmd.killGraceMs);
    };
    live.set(id, {
      abort: (reason) => {
        if (aborted) return;
        aborted = true;
        abortReason = reason;
        stop();
      },
      kill: () => {
        if (pid !== undefined && !exited) killGroup(pid, "SIGKILL");
      },
    });
    child.on("error", (error) => {
      if (pid !== undefined) return; // a failed write or kill: the process still ends normally
      const code = (error as NodeJS.ErrnoException).code;
      settle({ t: "failed", id, failure: "spawn", message: `${where} could not be started (${code ?? error.message}, cwd "${cmd.cwd ?? process.cwd()}")` });
    });
    if (pid === undefined) return; // it failed to start: "error" follows
    send({ t: "spawned", id, pid });
    const parts: string[] = [];
    let bytes = 0;
    let tail = "";
    const stdout = lines("stdout", id);
    const stderr = lines("stderr", id);
    const max = cmd.maxOutputBytes ?? Infinity;
    child.stdout!.on("data", (chunk: Uint8Array) => {
      if (overLimit) return;
      bytes += chunk.length;
      if (cmd.output !== "none" && bytes > max) {
        overLimit = true;
        stop();
        return;
      }
      const text = stdout.push(chunk);
      if (cmd.output !== "none") parts.push(text);
    });
    child.stderr!.on("data", (chunk: Uint8Array) => {
      tail = (tail + stderr.push(chunk)).slice(-2 * TAIL_CHARS);
    });
    if (cmd.stdin !== undefined) {
      child.stdin!.on("error", () => {}); // a command that exits without reading its stdin
      child.stdin!.end(Buffer.from(cmd.stdin, "base64"));
    }
    child.on("exit", () => {
      exited = true;
      if (killTimer !== undefined) clearTimeout(killTimer);
      killGroup(pid, "SIGKILL"); // whatever the leader left in its group goes with it
      send({ t: "exited", id, pid });
    });
    child.on("close", (code: number | null, signal: string | null) => {
      tail += stderr.end();
      const last = stdout.end();
      const stderrTail = tail
        .slice(-TAIL_CHARS)
        .replace(/\r?\n$/, "")
        .split(/\r?\n/)
        .slice(-TAIL_LINES)
        .join("\n");
      const fail = (failure: "exit" | "signal" | "output-limit" | "output-json", why: string) =>
        settle({
          t: "failed",
          id,
          failure,
          message: `${where} ${why}${stderrTail !== "" ? `\nstderr (last lines):\n${stderrTail.replace(/^/gm, "  ")}` : ""}`,
          exitCode: code,
          signal,
          stderrTail,
        });
      if (aborted) settle({ t: "threw", id, error: errorWire(abortReason) });
      else if (overLimit) fail("output-limit", `wrote more than ${max} bytes to stdout (maxOutputBytes) and was stopped`);
      else if (signal !== null) fail("signal", `was killed by ${signal}`);
      else if (code !== 0) fail("exit", `exited with code ${code}`);
      else if (cmd.output === "none") settle({ t: "ok", id });
      else {
        parts.push(last);
        let text = parts.join("");
        if (cmd.output === "text") {
          if (text.endsWith("\n")) text = text.slice(0, text.endsWith("\r\n") ? -2 : -1);
          settle({ t: "ok", id, json: JSON.stringify(text) });
        } else {
          try {
            JSON.parse(text);
          } catch {
            fail("output-json", `exited 0 but its stdout is not valid JSON (output: "json")`);
            return;
          }
          settle({ t: "ok", id, json: text });
        }
      }
    });
  };

  proc.on("message", (message: ToAgent) => {
    if (message.t === "run") {
      let payload: RunPayload;
      try {
        payload = JSON.parse(message.payload) as RunPayload;
      } catch (error) {
        send({ t: "threw", id: message.id, error: errorWire(error) });
        return;
      }
      if (message.body.kind === "command") runCommand(message.id, message.taskId, message.attempt, message.body, payload);
      else runModule(message.id, message.taskId, message.attempt, message.body, payload);
    } else if (message.t === "abort") {
      live.get(message.id)?.abort(revive(message.reason));
    }
  });
  // The provider deleted this VM (or died): nothing it started may outlive it.
  proc.on("disconnect", () => {
    for (const attempt of live.values()) attempt.kill();
    process.exit(0);
  });
  send({ t: "ready", pid: process.pid });
}
