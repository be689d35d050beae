/**
 * Agents booted on VMs: with `bullmq({ boot: { driver } })` a node is not an agent that happens to be on
 * the queue but one the pool made — a VM created through a `VmDriver` (a cloud's VM API, or `localVms()`
 * from flotilla/cloud-vm), on which the agent's command line runs as a long-lived command; the node is
 * that agent once it is seen alive. Stopping the node aborts the agent's command (SIGTERM: it drains and
 * exits) and deletes the VM; a VM the driver reports lost or preempted is a lost or preempted node.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FlotillaError, describe, messageOf } from "../../../src/errors.ts";
import type { CommandSpec } from "../../../src/provider-kit/body-specs.ts";
import type { VmDriver, VmInfo } from "../../../src/provider-kit/index.ts";
import type { NodePriority } from "../../../src/provider.ts";
import type { Runtime } from "../../../src/runtime.ts";
import type { TaskContext } from "../../../src/task-context.ts";

/** How a `bullmq()` pool boots its own agents. */
export interface BootOptions {
  /** Makes the VMs; they must run `command` bodies (`localVms()` does). */
  readonly driver: VmDriver<CommandSpec<any>>;
  /** Attempts each booted agent runs at once (`--concurrency`). @default 1 */
  readonly concurrency?: number;
  /** The Redis URL the agents connect to (given as FLOTILLA_REDIS_URL). @default the provider's `connection` when it is a URL */
  readonly redisUrl?: string;
  /** The modules folder on the VM (`--modules`). @default the provider's `modules` folder */
  readonly modules?: string;
  /** More flags for `flotilla agent` (e.g. `["--lease-ms", "1000"]`). @default [] */
  readonly args?: readonly string[];
  /**
   * The agent's command line on a VM, if not this machine's Node running this package's `flotilla`
   * (e.g. `["npx", "flotilla"]` on a VM image with flotilla installed). The agent flags are appended.
   */
  readonly command?: readonly string[];
}

export interface ResolvedBoot {
  readonly driver: VmDriver<CommandSpec<any>>;
  readonly concurrency: number;
  readonly redisUrl: string;
  readonly modules: string | undefined;
  readonly args: readonly string[];
  readonly command: readonly string[];
}

/** Checks `boot` (E_INVALID_OPTION naming what is wrong). */
export function resolveBoot(where: string, boot: unknown, connection: unknown, modules: string | undefined): ResolvedBoot | undefined {
  if (boot === undefined) return undefined;
  const bad = (what: string, value: unknown) => new FlotillaError("E_INVALID_OPTION", `${where}: boot.${what}, received ${describe(value)}`);
  if (typeof boot !== "object" || boot === null) throw bad("must be an object ({ driver, ... })", boot);
  const b = boot as Record<string, unknown>;
  const driver = b.driver as VmDriver<CommandSpec<any>> | undefined;
  if (
    typeof driver !== "object" ||
    driver === null ||
    typeof driver.create !== "function" ||
    typeof driver.run !== "function" ||
    typeof driver.delete !== "function"
  ) {
    throw bad("driver must be a VmDriver ({ name, create, delete, list, run }; e.g. localVms() from flotilla/cloud-vm)", driver);
  }
  if (driver.kinds !== undefined && !driver.kinds.includes("command"))
    throw bad(`driver must run "command" bodies (its kinds: ${driver.kinds.join(", ")})`, driver.name);
  const concurrency = b.concurrency ?? 1;
  if (!(Number.isInteger(concurrency) && (concurrency as number) >= 1)) throw bad("concurrency must be an integer >= 1", concurrency);
  const redisUrl = b.redisUrl ?? (typeof connection === "string" ? connection : undefined);
  if (typeof redisUrl !== "string" || !/^rediss?:\/\//.test(redisUrl)) {
    throw bad(
      "redisUrl must be the redis:// or rediss:// URL the agents use (needed when connection is not a URL)",
      redisUrl === undefined ? undefined : "(not a Redis URL)",
    );
  }
  const args = b.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) throw bad("args must be an array of strings", args);
  const command = b.command ?? [process.execPath, flotillaBin()];
  if (!Array.isArray(command) || command.length === 0 || !command.every((a) => typeof a === "string" && a.length > 0))
    throw bad("command must be a non-empty array of strings", command);
  const folder = b.modules ?? (modules === undefined ? undefined : fileURLToPath(modules));
  if (folder !== undefined && (typeof folder !== "string" || folder.length === 0)) throw bad("modules must be a folder's path", folder);
  return { driver, concurrency: concurrency as number, redisUrl, modules: folder as string | undefined, args, command };
}

/** The `flotilla agent` command spec for an agent named `name`. */
export function agentSpec(boot: ResolvedBoot, name: string, queue: string, prefix: string): CommandSpec<undefined> {
  const argv = [...boot.command, "agent", "--queue", queue, "--name", name, "--prefix", prefix, "--concurrency", String(boot.concurrency)];
  if (boot.modules !== undefined) argv.push("--modules", boot.modules);
  argv.push(...boot.args);
  // The URL goes in the environment, so a password is not on a command line.
  return Object.freeze({ kind: "command", argv, options: Object.freeze({ env: { FLOTILLA_REDIS_URL: boot.redisUrl }, output: "none" as const }) });
}

/** The context of the agent's long-lived command on its VM: `abort()` stops the agent. */
export function agentContext(vm: VmInfo, name: string, runtime: Runtime): { readonly ctx: TaskContext<any>; abort(reason: unknown): void; tail(): string } {
  const controller = new AbortController();
  const lines: string[] = [];
  const ctx: TaskContext<any> = {
    taskId: `agent ${name}`,
    attempt: 1,
    signal: controller.signal,
    deps: {},
    failures: {},
    node: { id: vm.id, slots: 1 },
    sleep: (ms) =>
      new Promise((resolve, reject) => {
        const timer = runtime.setTimer(ms, () => resolve());
        controller.signal.addEventListener("abort", () => (runtime.clearTimer(timer), reject(controller.signal.reason)), { once: true });
      }),
    onAbort: (listener) => {
      if (controller.signal.aborted) {
        listener(controller.signal.reason);
        return () => {};
      }
      const heard = () => listener(controller.signal.reason);
      controller.signal.addEventListener("abort", heard, { once: true });
      return () => controller.signal.removeEventListener("abort", heard);
    },
    log: (line) => {
      lines.push(line);
      if (lines.length > 20) lines.shift();
    },
  };
  return { ctx, abort: (reason) => controller.abort(reason), tail: () => lines.join("\n") };
}

/** `it ended: <why>; its last lines: ...`, for a lost agent's message. */
export function agentEnded(outcome: unknown, tail: string): string {
  const why = outcome instanceof Error || (typeof outcome === "object" && outcome !== null) ? messageOf(outcome) : "it exited";
  return `its agent process ended (${why})${tail === "" ? "" : `; its last lines:\n${tail.replace(/^/gm, "  ")}`}`;
}

/** A VM's priority as the pool asked for it. */
export type BootPriority = NodePriority;

/** bin/flotilla.mjs of this package: found by walking up from this module (source, or a chunk of dist/). */
function flotillaBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "flotilla") return join(dir, "bin", "flotilla.mjs");
      } catch {
        // not ours: keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new FlotillaError("E_INVALID_OPTION", "bullmq(): boot.command is needed: this package's bin/flotilla.mjs was not found");
    dir = up;
  }
}
