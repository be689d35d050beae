/** `command()`: the task body of this adapter, a command line, with its options and their one check. */
import { fileURLToPath } from "node:url";
import { FlotillaError, describe } from "../../src/errors.ts";
import type { CommandOptions, CommandSpec } from "../../src/provider-kit/body-specs.ts";
import { checkDelayMs, checkOptionsObject, invalidOption } from "../../src/validation.ts";
import { checkMaxOutputBytes } from "./options.ts";

// The types live in the provider kit, so other providers run the same bodies (see body-specs.ts).
export type { CommandOptions, CommandSpec } from "../../src/provider-kit/body-specs.ts";

/** A command, checked and ready to spawn. */
export interface ResolvedCommand {
  readonly argv: readonly string[];
  /** What is spawned: the program, or the shell. */
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>> | undefined;
  readonly inheritEnv: boolean;
  readonly cwd: string | undefined;
  readonly stdin: string | Uint8Array | undefined;
  readonly output: "text" | "json" | "none";
  readonly maxOutputBytes: number | undefined;
  readonly killGraceMs: number | undefined;
}

const COMMAND_OPTION_NAMES = ["env", "inheritEnv", "cwd", "stdin", "shell", "output", "maxOutputBytes", "killGraceMs"];
const OUTPUTS = ["text", "json", "none"];
const resolved = new WeakMap<object, ResolvedCommand>();

/**
 * A task body that runs a command line as a child process, for `childProcess()`. The task's output
 * is the command's stdout (see `output`); a non-zero exit, a signal, a failed start or output past
 * the cap fails the attempt with a `CommandFailedError`. Throws E_INVALID_OPTION for a bad argv or
 * option.
 *
 * The command finds its dependencies' outputs in the JSON file named by `FLOTILLA_DEPS_FILE`:
 * `{ "deps": { "<id>": output, … }, "failures": { "<id>": { "name", "code", "message" }, … } }`.
 *
 * @example
 * job.task("resize", command(["convert", "in.png", "-resize", "50%", "out.png"]))
 *    .task("count", command<{ rows: number }>(["./count.sh"], { output: "json" }))
 */
export function command(argv: readonly string[], options: CommandOptions & { readonly output: "none" }): CommandSpec<undefined>;
export function command<Output = unknown>(argv: readonly string[], options: CommandOptions & { readonly output: "json" }): CommandSpec<Output>;
export function command<Output = string>(argv: readonly string[], options?: CommandOptions): CommandSpec<Output>;
export function command(argv: readonly string[], options: CommandOptions = {}): CommandSpec<unknown> {
  const r = resolveCommand(argv, options);
  const spec: CommandSpec<unknown> = Object.freeze({ kind: "command", argv: r.argv, options: Object.freeze({ ...options }) });
  resolved.set(spec, r);
  return spec;
}

/** The checked form of a spec (cached for specs made by `command()`; checked now for hand-made ones). */
export function resolveSpec(spec: unknown): ResolvedCommand {
  if (typeof spec === "object" && spec !== null) {
    const cached = resolved.get(spec);
    if (cached !== undefined) return cached;
    const s = spec as Partial<CommandSpec>;
    if (s.kind === "command") {
      const r = resolveCommand(s.argv as readonly string[], s.options ?? {});
      resolved.set(spec, r);
      return r;
    }
  }
  throw new FlotillaError(
    "E_INVALID_OPTION",
    `the child-process provider runs command specs (made with command([...])), received ${typeof spec === "object" && spec !== null && "kind" in spec ? `a spec of kind ${describe((spec as { kind: unknown }).kind)}` : describe(spec)}`,
  );
}

function resolveCommand(argv: readonly string[], options: CommandOptions): ResolvedCommand {
  const where = `command(${preview(argv)})`;
  if (!Array.isArray(argv) || argv.length === 0) {
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `command(argv): argv must be a non-empty array of strings (the program, then its arguments), received ${Array.isArray(argv) ? "an empty array" : describe(argv)}`,
    );
  }
  for (let i = 0; i < argv.length; i++) {
    const arg: unknown = argv[i];
    if (typeof arg !== "string") throw invalidArg(where, i, "a string", arg);
    if (arg.includes("\0")) throw invalidArg(where, i, "a string without NUL characters", arg);
  }
  if (argv[0] === "") throw invalidArg(where, 0, "a non-empty program name or path", argv[0]);
  checkOptionsObject(where, options, COMMAND_OPTION_NAMES);
  const { env, inheritEnv = true, stdin, shell = false, output = "text", maxOutputBytes, killGraceMs } = options;

  if (env !== undefined) {
    if (typeof env !== "object" || env === null || Array.isArray(env)) throw invalidOption(where, "env", "an object of string values", env);
    for (const [name, value] of Object.entries(env)) {
      if (name === "" || name.includes("=") || name.includes("\0")) {
        throw new FlotillaError(
          "E_INVALID_OPTION",
          `${where}: option "env" has the name ${JSON.stringify(name)}; a variable's name must be non-empty, without '=' or NUL`,
        );
      }
      if (value !== undefined && (typeof value !== "string" || value.includes("\0"))) {
        throw invalidOption(where, `env.${name}`, "a string without NUL characters (or undefined to remove it)", value);
      }
    }
  }
  if (typeof inheritEnv !== "boolean") throw invalidOption(where, "inheritEnv", "a boolean", inheritEnv);
  let cwd: string | undefined;
  if (options.cwd !== undefined) {
    const c: unknown = options.cwd;
    if (c instanceof URL && c.protocol === "file:") cwd = fileURLToPath(c);
    else if (typeof c === "string" && c.length > 0 && !c.includes("\0")) cwd = c;
    else throw invalidOption(where, "cwd", "a non-empty directory path or a file: URL", c);
  }
  if (stdin !== undefined && typeof stdin !== "string" && !(stdin instanceof Uint8Array)) {
    throw invalidOption(where, "stdin", "a string or a Uint8Array", stdin);
  }
  if (!(typeof shell === "boolean" || (typeof shell === "string" && shell.length > 0 && !shell.includes("\0")))) {
    throw invalidOption(where, "shell", "a boolean or the path of a shell", shell);
  }
  if (!OUTPUTS.includes(output)) throw invalidOption(where, "output", `one of "text", "json", "none"`, output);
  if (maxOutputBytes !== undefined) checkMaxOutputBytes(where, maxOutputBytes);
  if (killGraceMs !== undefined) checkDelayMs(where, "killGraceMs", killGraceMs);

  const frozen = Object.freeze([...argv]);
  const [file, args] = shell === false ? [frozen[0]!, frozen.slice(1)] : [shell === true ? "/bin/sh" : shell, ["-c", frozen[0]!, "sh", ...frozen.slice(1)]];
  return { argv: frozen, file, args, env: env === undefined ? undefined : { ...env }, inheritEnv, cwd, stdin, output, maxOutputBytes, killGraceMs };
}

function invalidArg(where: string, i: number, expected: string, received: unknown): FlotillaError {
  return new FlotillaError("E_INVALID_OPTION", `${where}: argv[${i}] must be ${expected}, received ${describe(received)}`);
}

/** `["make", "-j4"]` for messages, shortened past 120 characters. */
export function preview(argv: unknown): string {
  if (!Array.isArray(argv)) return describe(argv);
  const text = JSON.stringify(argv.map((a) => (typeof a === "string" ? a : String(a))));
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}
