/**
 * The bodies a local VM runs, and what the agent is sent for each: the same specs as the worker-thread
 * and child-process providers take (`workerTask(...)`, kind "worker-thread"; `command(...)`, kind
 * "command"), so one task definition runs on threads, processes or VMs. Their builders check them;
 * a hand-made spec is checked here, as far as the agent needs.
 */
import { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";
import { FlotillaError, describe } from "../../../src/errors.ts";
import type { CommandOptions, CommandSpec, WorkerTaskSpec } from "../../../src/provider-kit/body-specs.ts";
import { bodyName } from "../../../src/provider-kit/node-errors.ts";
import type { ResolvedLocalOptions } from "./options.ts";
import type { CommandWire, ModuleWire } from "./wire.ts";

/** The body kinds a local VM runs. */
export const LOCAL_VM_KINDS = Object.freeze(["worker-thread", "command"]);

/** A body a local VM runs: a worker module's export or a command line. */
export type LocalVmBody = WorkerTaskSpec<any> | CommandSpec<any>;

const OUTPUTS = ["text", "json", "none"];
const wires = new WeakMap<object, ModuleWire | CommandWire>();

/** What the agent is sent for `body` (cached per spec); throws E_INVALID_OPTION for a body it cannot run. */
export function bodyWire(body: unknown, taskId: string, defaults: ResolvedLocalOptions): ModuleWire | CommandWire {
  if (typeof body === "object" && body !== null) {
    const cached = wires.get(body);
    if (cached !== undefined) return cached;
    const spec = body as { kind?: unknown; module?: unknown; export?: unknown; argv?: unknown; options?: CommandOptions };
    let wire: ModuleWire | CommandWire | undefined;
    if (spec.kind === "worker-thread" && typeof spec.module === "string" && typeof spec.export === "string") {
      wire = { kind: "module", module: spec.module, export: spec.export };
    } else if (spec.kind === "command") {
      wire = commandWire(spec.argv, spec.options ?? {}, taskId, defaults);
    }
    if (wire !== undefined) {
      wires.set(body, wire);
      return wire;
    }
  }
  throw new FlotillaError(
    "E_INVALID_OPTION",
    `task "${taskId}": local VMs run workerTask(module, export, input) bodies (kind "worker-thread") and command([...]) bodies (kind "command"), received ${bodyName(body)}`,
  );
}

function commandWire(argv: unknown, options: CommandOptions, taskId: string, defaults: ResolvedLocalOptions): CommandWire {
  const bad = (what: string, value: unknown) =>
    new FlotillaError(
      "E_INVALID_OPTION",
      `task "${taskId}": its command spec's ${what}, received ${describe(value)} (make it with command() from flotilla/child-process)`,
    );
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === "string" && !a.includes("\0")) || argv[0] === "") {
    throw bad("argv must be a non-empty array of strings", argv);
  }
  if (typeof options !== "object" || options === null) throw bad("options must be an object", options);
  const { env, inheritEnv = true, cwd, stdin, shell = false, output = "text", maxOutputBytes, killGraceMs } = options;
  let envWire: Record<string, string | null> | undefined;
  if (env !== undefined) {
    if (typeof env !== "object" || env === null) throw bad("env must be an object of strings", env);
    envWire = {};
    for (const [name, value] of Object.entries(env)) {
      if (value !== undefined && typeof value !== "string") throw bad(`env.${name} must be a string or undefined`, value);
      envWire[name] = value ?? null; // JSON drops undefined: null says "remove it"
    }
  }
  let dir: string | undefined;
  if (cwd instanceof URL && cwd.protocol === "file:") dir = fileURLToPath(cwd);
  else if (typeof cwd === "string" && cwd.length > 0) dir = cwd;
  else if (cwd !== undefined) throw bad("cwd must be a directory path or a file: URL", cwd);
  if (stdin !== undefined && typeof stdin !== "string" && !(stdin instanceof Uint8Array)) throw bad("stdin must be a string or a Uint8Array", stdin);
  if (!(typeof shell === "boolean" || (typeof shell === "string" && shell.length > 0))) throw bad("shell must be a boolean or a shell's path", shell);
  if (!OUTPUTS.includes(output)) throw bad(`output must be one of "text", "json", "none"`, output);
  const max = maxOutputBytes ?? defaults.maxOutputBytes;
  if (!(max === Infinity || (Number.isInteger(max) && max >= 0))) throw bad("maxOutputBytes must be an integer >= 0 or Infinity", max);
  const grace = killGraceMs ?? defaults.killGraceMs;
  if (!(typeof grace === "number" && grace >= 0 && grace <= 2 ** 31 - 1)) throw bad("killGraceMs must be a number of milliseconds from 0 to 2^31-1", grace);
  const args = argv as string[];
  const [file, rest] = shell === false ? [args[0]!, args.slice(1)] : [shell === true ? "/bin/sh" : shell, ["-c", args[0]!, "sh", ...args.slice(1)]];
  return {
    kind: "command",
    argv: [...args],
    file,
    args: rest,
    env: envWire,
    inheritEnv: inheritEnv !== false,
    cwd: dir,
    stdin: stdin === undefined ? undefined : Buffer.from(typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin).toString("base64"),
    output,
    maxOutputBytes: max === Infinity ? null : max,
    killGraceMs: grace,
  };
}
