/** `childProcess()`: the provider that runs `command()` task bodies as child processes. */
import { availableParallelism } from "node:os";
import { FlotillaError, NodeLostError, describe } from "../../src/errors.ts";
import type { ComputeProvider, ProviderNode } from "../../src/provider.ts";
import type { TaskContext } from "../../src/task-context.ts";
import { checkDelayMs, checkOptionsObject, invalidOption } from "../../src/validation.ts";
import { checkMaxOutputBytes, resolveSpec, type CommandSpec } from "./command.ts";
import { ProcessNode } from "./process-node.ts";
import { runCommand, type CommandDefaults } from "./run-command.ts";

/**
 * Options of the child-process provider.
 *
 * @example run(job, { provider: childProcess({ slots: 4, killGraceMs: 2_000 }) })
 */
export interface ChildProcessOptions {
  /**
   * How many commands run at once (the slots of its one node).
   * @default os.availableParallelism(). Bounds: integer >= 1, or Infinity.
   */
  readonly slots?: number;
  /**
   * Default for commands that do not set their own: milliseconds between SIGTERM and SIGKILL when a
   * command is cancelled, times out or exceeds its output cap. Keep it below the run's
   * `cancelGraceMs` (1000 by default), so the kill lands before the run stops waiting.
   * @default 500. Bounds: finite, >= 0.
   */
  readonly killGraceMs?: number;
  /**
   * Default for commands that do not set their own: most bytes of stdout kept as a task's output.
   * @default 1_048_576 (1 MiB). Bounds: integer >= 0, or Infinity.
   */
  readonly maxOutputBytes?: number;
}

const OPTION_NAMES = ["slots", "killGraceMs", "maxOutputBytes"];
const KINDS = Object.freeze(["command"]);
let nodes = 0;

/**
 * A compute provider that runs `command()` task bodies as child processes, on one node with
 * `slots` slots. Each command runs in a process group of its own: a cancel or timeout sends the
 * group SIGTERM, then SIGKILL after `killGraceMs`; when a command exits, whatever it left running in
 * its group is killed; when the run ends, nothing it started is left running. POSIX only (Linux,
 * macOS). Throws E_INVALID_OPTION for a bad option.
 *
 * @example
 * import { childProcess, command } from "flotilla/child-process";
 * const job = new Job("build").task("compile", command(["make", "-j4"], { cwd: "./src" }));
 * const result = await run(job, { provider: childProcess({ slots: 4 }) });
 */
export function childProcess(options: ChildProcessOptions = {}): ComputeProvider<CommandSpec<unknown>> {
  const where = "childProcess()";
  checkOptionsObject(where, options, OPTION_NAMES);
  const { slots = availableParallelism(), killGraceMs = 500, maxOutputBytes = 1024 * 1024 } = options;
  if (!(slots === Infinity || (Number.isInteger(slots) && slots >= 1))) throw invalidOption(where, "slots", "an integer >= 1 or Infinity", slots);
  checkDelayMs(where, "killGraceMs", killGraceMs);
  checkMaxOutputBytes(where, maxOutputBytes);
  if (process.platform === "win32") {
    throw new FlotillaError("E_INVALID_OPTION", `${where}: child processes need POSIX process groups (Linux, macOS); this platform is win32`);
  }
  const defaults: CommandDefaults = { killGraceMs, maxOutputBytes };

  return {
    name: "child-process",
    kinds: KINDS,
    maxNodes: 1,
    startNode: () => new ProcessNode(`child-process-${++nodes}`, slots),
    stopNode: (node: ProviderNode) => (node instanceof ProcessNode ? node.stop() : undefined),
    run: (node: ProviderNode, body: CommandSpec<unknown>, ctx: TaskContext<any>): Promise<unknown> => {
      if (!(node instanceof ProcessNode)) return Promise.reject(new FlotillaError("E_INVALID_OPTION", `the child-process provider cannot run on node ${describe((node as { id?: unknown } | null)?.id)}: it is not one of its nodes`));
      if (node.stopped) return Promise.reject(new NodeLostError(node.id, `node "${node.id}" was stopped`));
      try {
        return runCommand(node, resolveSpec(body), ctx, defaults);
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}
