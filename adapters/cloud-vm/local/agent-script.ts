/**
 * The agent's script, and the file a local VM's process runs it from.
 *
 * The script is source text, as worker-threads' thread script is: no file beside the bundle, so the
 * same code works from the ESM and the CJS build, from source under tsx, and under Deno. A process,
 * unlike a thread, cannot start from text everywhere (Deno's `-e` has no dynamic `import()`), so the
 * text is written once per program to a private temporary directory and the process runs that file
 * (`process.execPath agent.mjs`, which Deno runs as `deno run`). The directory is removed when the last
 * local VM has exited, and by an exit hook.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentMain } from "./agent-main.ts";
import { errorWire } from "./wire.ts";

// Function sources are passed as expressions, so a bundler renaming the declarations changes nothing.
// `__name` is defined because a transpiler keeping function names (tsx does) may call it inside them.
export const AGENT_SCRIPT = `var __name = (target, value) => Object.defineProperty(target, "name", { value, configurable: true });
await (${agentMain.toString()})((${errorWire.toString()}));
`;

let dir: string | undefined;

/** The path of the agent's script file, written now if it is not there. */
export function agentScriptPath(): string {
  if (dir === undefined) {
    // mkdtemp makes the directory readable by this user only.
    const made = mkdtempSync(join(tmpdir(), "flotilla-agent-"));
    writeFileSync(join(made, "agent.mjs"), AGENT_SCRIPT);
    dir = made;
  }
  return join(dir, "agent.mjs");
}

/** Removes the script's directory (when no VM process needs it any more, or at exit). */
export function removeAgentScript(): void {
  if (dir === undefined) return;
  rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}
