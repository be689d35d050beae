/**
 * One attempt on a local VM, on the provider's side: its payload sent to the agent, its outcome heard
 * from the agent's answers or from the end of the VM's process, and its abort — passed on to the agent
 * (which aborts the function's signal, or stops the command's group), then forced after the grace by
 * killing the VM's process (the VM is then lost, as a thread that ignores its abort is terminated).
 */
import { FlotillaError, messageOf } from "../../../src/errors.ts";
import { AbortGrace, Outcome, jsonCulprit, nodeLostError, nodeStoppedError } from "../../../src/provider-kit/index.ts";
import type { TaskContext } from "../../../src/task-context.ts";
import { CLOUD_VM_ERROR_CODES, VmTaskFailedError } from "../errors.ts";
import type { ResolvedLocalOptions } from "./options.ts";
import type { AgentListener, LocalVm } from "./vm-process.ts";
import { errorWire, type CommandWire, type ErrorWire, type FromAgent, type ModuleWire } from "./wire.ts";

let attempts = 0;

export function runOnVm(vm: LocalVm, body: ModuleWire | CommandWire, input: unknown, ctx: TaskContext<any>, options: ResolvedLocalOptions): Promise<unknown> {
  if (!vm.alive) return Promise.reject(nodeLostError(vm.id, ctx, "its process has exited"));
  ctx.signal.throwIfAborted();
  let payload: string;
  try {
    payload = JSON.stringify({ input, deps: ctx.deps, failures: failuresWire(ctx.failures) });
  } catch (error) {
    return Promise.reject(
      new VmTaskFailedError(
        { failure: "input", taskId: ctx.taskId, attempt: ctx.attempt, vmId: vm.id },
        `task "${ctx.taskId}" attempt ${ctx.attempt}: its input or its dependencies' outputs cannot be sent to local VM "${vm.id}" as JSON${jsonCulprit(input, ctx.deps)}: ${messageOf(error)}`,
        { cause: error },
      ),
    );
  }
  return new VmAttempt(vm, body, payload, ctx, options).outcome.promise;
}

class VmAttempt implements AgentListener {
  readonly id = ++attempts;
  readonly outcome = new Outcome<unknown>();
  readonly #vm: LocalVm;
  readonly #body: ModuleWire | CommandWire;
  readonly #ctx: TaskContext<any>;
  readonly #grace: AbortGrace;

  constructor(vm: LocalVm, body: ModuleWire | CommandWire, payload: string, ctx: TaskContext<any>, options: ResolvedLocalOptions) {
    this.#vm = vm;
    this.#body = body;
    this.#ctx = ctx;
    this.#grace = new AbortGrace({
      // A command has its own grace in the agent (SIGTERM, then SIGKILL); this one comes after it.
      graceMs: options.terminateGraceMs + (body.kind === "command" ? body.killGraceMs : 0),
      stop: (reason) => vm.post({ t: "abort", id: this.id, reason: errorWire(reason) }),
      escalate: () => vm.terminate(),
      timers: vm.runtime,
    });
    this.outcome.onSettle(() => {
      this.#grace.release();
      vm.unlisten(this.id);
    });
    vm.post({ t: "run", id: this.id, taskId: ctx.taskId, attempt: ctx.attempt, body, payload }, this);
    this.#grace.watch(ctx);
  }

  message(message: FromAgent): void {
    const ctx = this.#ctx;
    switch (message.t) {
      case "log":
        ctx.log(message.line, message.stream);
        return;
      case "ok":
        if (this.#grace.aborted) this.outcome.reject(this.#grace.reason);
        else this.#resolveJson(message.json);
        return;
      case "threw":
        this.outcome.reject(this.#grace.aborted ? this.#grace.reason : reviveError(message.error));
        return;
      case "failed": {
        if (this.#grace.aborted) {
          this.outcome.reject(this.#grace.reason);
          return;
        }
        const details = { failure: message.failure, taskId: ctx.taskId, attempt: ctx.attempt, vmId: this.#vm.id };
        const cause = message.cause === undefined ? undefined : { cause: reviveError(message.cause) };
        const failure = new VmTaskFailedError(
          { ...details, exitCode: message.exitCode ?? null, signal: message.signal ?? null, stderrTail: message.stderrTail ?? "" },
          `task "${ctx.taskId}" attempt ${ctx.attempt} on local VM "${this.#vm.id}": ${message.message}`,
          cause,
        );
        this.outcome.reject(failure);
        return;
      }
      default:
        return;
    }
  }

  ended(deleted: boolean, why: string): void {
    const ctx = this.#ctx;
    // Killed because it ignored its abort: it ends as aborted. Otherwise its node is gone.
    if (this.#grace.aborted) this.outcome.reject(this.#grace.reason);
    else if (deleted) this.outcome.reject(nodeStoppedError(this.#vm.id, ctx, this.#work(), "its VM was deleted"));
    else this.outcome.reject(nodeLostError(this.#vm.id, ctx, why));
  }

  #work(): string {
    const body = this.#body;
    return body.kind === "command" ? `command ${JSON.stringify(body.argv)}` : `export "${body.export}" of ${body.module}`;
  }

  #resolveJson(json: string | undefined): void {
    if (json === undefined) {
      this.outcome.resolve(undefined);
      return;
    }
    try {
      this.outcome.resolve(JSON.parse(json));
    } catch (error) {
      this.outcome.reject(error);
    }
  }
}

/** The errors of dependencies that failed with onFailure "satisfy", as JSON (no prototype: "__proto__" is an id like any other). */
function failuresWire(failures: Readonly<Record<string, unknown>>): Record<string, ErrorWire> {
  const out: Record<string, ErrorWire> = Object.create(null);
  for (const [id, error] of Object.entries(failures)) out[id] = errorWire(error);
  return out;
}

/** The body's error again, on this side: its name, message, stack and code; a flotilla error keeps its brand. */
function reviveError(wire: ErrorWire): unknown {
  if (!wire.error) return wire.message; // a thrown string (or other value), as its text
  const error: Error = wire.brand ? new FlotillaError(wire.code ?? CLOUD_VM_ERROR_CODES.E_VM_TASK_FAILED, wire.message) : new Error(wire.message);
  Object.defineProperty(error, "name", { value: wire.name, configurable: true, writable: true });
  if (wire.stack !== undefined) Object.defineProperty(error, "stack", { value: wire.stack, configurable: true, writable: true });
  if (wire.code !== undefined && !wire.brand) Object.defineProperty(error, "code", { value: wire.code, configurable: true, writable: true, enumerable: true });
  return error;
}
