/**
 * The one node of a child-process provider: its slots, the process groups it has running, and the
 * private directory its attempts' dependency files go in. Stopping it kills every group still
 * running and waits for them. If the program exits while a node is up (`process.exit()` mid-run),
 * an exit hook kills its groups, so no command outlives it; a program killed by a signal runs no
 * hook, and its commands, being in groups of their own, do not get the signal either: the reaper
 * (reaper.ts) stops them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProviderNode } from "../../src/provider.ts";
import { disarmReaper, endReaper } from "./reaper.ts";

/** A command's process group while it runs. */
export interface LiveGroup {
  /** Sends SIGKILL to the whole group now. */
  kill(): void;
  /** Settles once its leader exited and its output streams closed. */
  readonly done: Promise<void>;
}

/** Nodes started and not yet stopped, for the process's exit hook. */
const active = new Set<ProcessNode>();

/** Synchronous kills and removals are all an exit hook can do; they are enough. */
function onExit(): void {
  for (const node of active) {
    node.killAll();
    node.removeDir();
  }
  disarmReaper(); // every group was killed: the reaper must not signal their ids again
}

function activate(node: ProcessNode): void {
  if (active.size === 0) process.on("exit", onExit);
  active.add(node);
}

/** The last node stopped: the exit hook goes, and the reaper too (resolves once it exited). */
function deactivate(node: ProcessNode): Promise<void> {
  if (!active.delete(node) || active.size > 0) return Promise.resolve();
  process.off("exit", onExit);
  return endReaper();
}

export class ProcessNode implements ProviderNode {
  readonly id: string;
  readonly slots: number;
  /**
   * `process.env` when the node started (the run began). Copying `process.env` costs about 25 µs
   * (every read crosses into the runtime); copying this plain object, about 1 µs.
   */
  readonly env: Readonly<Record<string, string | undefined>> = { ...process.env };
  readonly #groups = new Set<LiveGroup>();
  #dir: string | undefined = undefined;
  #files = 0;
  #stopped = false;

  constructor(id: string, slots: number) {
    this.id = id;
    this.slots = slots;
    activate(this);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** A fresh path for one attempt's dependency file, in the node's private directory (made on first use). */
  depsFilePath(): string {
    // mkdtemp makes the directory readable by this user only.
    this.#dir ??= mkdtempSync(join(tmpdir(), "flotilla-"));
    return join(this.#dir, `deps-${++this.#files}.json`);
  }

  add(group: LiveGroup): void {
    this.#groups.add(group);
  }

  delete(group: LiveGroup): void {
    this.#groups.delete(group);
  }

  killAll(): void {
    for (const group of this.#groups) group.kill();
  }

  /** Kills every group still running, waits until each has exited, and removes the private directory. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const done = [...this.#groups].map((g) => g.done);
    this.killAll();
    await Promise.all(done);
    this.removeDir();
    await deactivate(this);
  }

  removeDir(): void {
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
  }
}
