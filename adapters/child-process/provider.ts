/** `childProcess()`: the provider that runs `command()` task bodies as child processes. */
import { StartedNodes } from "../../src/provider-kit/index.ts";
import type { ComputeProvider } from "../../src/provider.ts";
import { runCommand } from "./attempt.ts";
import { ProcessNode } from "./node.ts";
import { resolveOptions, type ChildProcessOptions } from "./options.ts";
import { resolveSpec, type CommandSpec } from "./spec.ts";

const NAME = "child-process";
const KINDS = Object.freeze(["command"]);
let started = 0;

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
export function childProcess(options?: ChildProcessOptions): ComputeProvider<CommandSpec<unknown>> {
  const resolved = resolveOptions(options);
  const nodes = new StartedNodes<ProcessNode>(NAME);
  return {
    name: NAME,
    kinds: KINDS,
    maxNodes: 1,
    startNode: () => nodes.add(new ProcessNode(`${NAME}-${++started}`, resolved.slots)),
    stopNode: (node) => nodes.markStopped(node)?.stop(),
    // A stopped node rejects with NodeLostError; a node of another provider, with E_INVALID_OPTION.
    run: (node, body, ctx) => nodes.run(node, ctx, (ours) => runCommand(ours, resolveSpec(body), ctx, resolved)),
  };
}
