/**
 * One local VM: a process running the agent (agent-main.ts), in a process group of its own, talking
 * over IPC. It is `creating` until the agent says it is ready, then `running`; `deleting` once its
 * delete began. It knows the process group of every command its agent started (the agent reports each
 * as it spawns it), so a delete, or the death of the agent, leaves none of them running.
 *
 * If the program exits while VMs are up (`process.exit()` mid-run), an exit hook kills them; a program
 * killed by a signal runs no hook, but each agent exits (killing its commands) when its channel closes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeLostError, messageOf } from "../../../src/errors.ts";
import { vmApiError, type NodePriority, type VmEvents, type VmInfo } from "../../../src/provider-kit/index.ts";
import type { Runtime } from "../../../src/runtime.ts";
import { agentScriptPath, removeAgentScript } from "./agent-script.ts";
import type { ResolvedLocalOptions } from "./options.ts";
import type { FromAgent, ToAgent } from "./wire.ts";

/** A local VM as `list()` describes it: a VmInfo, with its process's pid (undefined before it started). */
export interface LocalVmInfo extends VmInfo {
  readonly pid: number | undefined;
}

/** What an attempt on the VM hears from its agent. */
export interface AgentListener {
  message(message: FromAgent): void;
  /** The VM's process ended (deleted, or died): the attempt ends now. */
  ended(deleted: boolean, why: string): void;
}

/** Processes started and not yet exited, for the exit hook. */
const active = new Set<LocalVm>();

function onExit(): void {
  for (const vm of active) vm.cleanUpNow();
  removeAgentScript();
}

export class LocalVm {
  readonly id: string;
  readonly name: string;
  readonly priority: NodePriority;
  readonly slots: number | undefined;
  /** The pool's runtime: an attempt's grace is armed on its timers. */
  readonly runtime: Runtime;
  readonly #events: VmEvents;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #listeners = new Map<number, AgentListener>();
  /** Process groups of the commands the agent has running (their leaders' pids). */
  readonly #groups = new Set<number>();
  /** The VM's private directory (its commands' dependency files); removed when its process has exited. */
  readonly #dir: string;
  #state: VmInfo["state"] = "creating";
  #deleting = false;
  #ended = false;

  /** Starts the process; `ready` settles when the agent answers (or the process ends first). */
  constructor(
    id: string,
    name: string,
    priority: NodePriority,
    events: VmEvents,
    runtime: Runtime,
    options: ResolvedLocalOptions,
    ready: (error?: unknown) => void,
  ) {
    this.id = id;
    this.name = name;
    this.priority = priority;
    this.slots = options.slots;
    this.runtime = runtime;
    this.#events = events;
    if (active.size === 0) process.on("exit", onExit);
    active.add(this);
    // mkdtemp makes the directory readable by this user only.
    this.#dir = mkdtempSync(join(tmpdir(), "flotilla-vm-"));
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [...options.execArgv, agentScriptPath(), this.#dir], {
        env: options.env ?? { ...process.env },
        // A group of its own: a Ctrl-C meant for this program is handled by it, which deletes its VMs.
        detached: true,
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
    } catch (error) {
      this.#forget();
      throw error;
    }
    this.#child = child;
    this.#exited = new Promise<void>((resolve) => {
      child.on("exit", (code, signal) => {
        this.#onExit(code, signal, ready);
        resolve();
      });
    });
    child.on("error", (error) => {
      // The process could not start (its "exit" never comes), or a kill or send failed (it still exits).
      if (child.pid === undefined) {
        this.#forget();
        ready(vmApiError(`local VM "${id}" (${name}): its process could not be started: ${messageOf(error)}`, error));
      }
    });
    child.on("message", (message: FromAgent) => {
      if (message.t === "ready") {
        this.#state = "running";
        ready();
      } else if (message.t === "spawned") this.#groups.add(message.pid);
      else if (message.t === "exited") this.#groups.delete(message.pid);
      else this.#listeners.get(message.id)?.message(message);
    });
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get info(): LocalVmInfo {
    return {
      id: this.id,
      name: this.name,
      priority: this.priority,
      state: this.#state,
      ...(this.slots === undefined ? {} : { slots: this.slots }),
      pid: this.pid,
    };
  }

  /** Whether the process is still there to run attempts. */
  get alive(): boolean {
    return !this.#ended && !this.#deleting;
  }

  /** Sends a message to the agent; listens for its answers to attempt `id`. */
  post(message: ToAgent, listener?: AgentListener): void {
    if (listener !== undefined && message.t === "run") this.#listeners.set(message.id, listener);
    try {
      this.#child.send(message);
    } catch {
      // The channel closed under the send: the process is ending, and its exit ends the attempt.
    }
  }

  /** The attempt settled: no more messages for it. */
  unlisten(id: number): void {
    this.#listeners.delete(id);
  }

  /** Kills the process now, on purpose: an attempt ignored its abort (the VM is then lost). */
  terminate(): void {
    this.killNow();
  }

  /** Deletes the VM: kills its process and its commands, and waits until the process has exited. */
  async delete(): Promise<void> {
    this.#deleting = true;
    this.#state = "deleting";
    this.killNow();
    await this.#exited;
  }

  /** At this program's exit: kill everything, remove the directory (synchronously). */
  cleanUpNow(): void {
    this.killNow();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** SIGKILL to every command group and to the agent's group (synchronous: the exit hook uses it). */
  killNow(): void {
    for (const pid of this.#groups) killGroup(pid);
    const pid = this.#child?.pid;
    if (pid !== undefined && !this.#ended) killGroup(pid);
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null, ready: (error?: unknown) => void): void {
    this.#ended = true;
    // The agent is gone: what it started goes with it (it cannot do it itself after a SIGKILL).
    for (const pid of this.#groups) killGroup(pid);
    this.#groups.clear();
    this.#forget();
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
    const why = `its process (pid ${this.#child.pid}) ${how}`;
    if (this.#state === "creating") {
      ready(vmApiError(`local VM "${this.id}" (${this.name}): ${why} before its agent was ready`));
      return;
    }
    const listeners = [...this.#listeners.values()];
    this.#listeners.clear();
    for (const listener of listeners) listener.ended(this.#deleting, why);
    if (!this.#deleting) this.#events.lost(new NodeLostError(this.id, `local VM "${this.name}": ${why}`));
  }

  #forget(): void {
    rmSync(this.#dir, { recursive: true, force: true });
    if (!active.delete(this)) return;
    if (active.size === 0) {
      process.off("exit", onExit);
      removeAgentScript();
    }
  }
}

/** SIGKILL to a whole process group; a group already gone is fine. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // ESRCH: nothing left in the group.
  }
}
