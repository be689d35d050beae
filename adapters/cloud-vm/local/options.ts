/** Options of `localVms()`, with defaults and bounds, and their single check. */
import { FlotillaError } from "../../../src/errors.ts";
import { checkDelayMs, checkOptionsObject, invalidOption } from "../../../src/validation.ts";
import { isSlots } from "../options.ts";

/**
 * Options of the local VM driver.
 *
 * @example cloudVm({ driver: localVms({ slots: 2, env: { LOG_LEVEL: "debug" } }), maxNodes: 3 })
 */
export interface LocalVmsOptions {
  /** Attempts one VM runs at once (its `VmInfo.slots`). @default the provider's `slotsPerVm`. Bounds: integer >= 1, or Infinity. */
  readonly slots?: number;
  /** The environment of each VM's process (and, inherited, of its commands). @default a copy of process.env when the VM is created */
  readonly env?: Readonly<Record<string, string>>;
  /** Node options for each VM's process (ignored by Deno, which runs it with `deno run`). @default [] */
  readonly execArgv?: readonly string[];
  /**
   * Default for commands that do not set their own: milliseconds between SIGTERM and SIGKILL to a
   * cancelled command's process group. @default 500. Bounds: 0 to 2^31-1.
   */
  readonly killGraceMs?: number;
  /** Default for commands that do not set their own: most bytes of stdout kept. @default 1_048_576 (1 MiB). Bounds: integer >= 0, or Infinity. */
  readonly maxOutputBytes?: number;
  /**
   * How long an aborted attempt may go on after its signal aborted (after a command's `killGraceMs`)
   * before its VM's process is killed: the attempt ends, and the VM is reported lost (other attempts on
   * it are requeued). Keep it below the run's `cancelGraceMs`. @default 500. Bounds: 0 to 2^31-1.
   */
  readonly terminateGraceMs?: number;
}

export interface ResolvedLocalOptions {
  readonly slots: number | undefined;
  readonly env: Readonly<Record<string, string>> | undefined;
  readonly execArgv: readonly string[];
  readonly killGraceMs: number;
  readonly maxOutputBytes: number;
  readonly terminateGraceMs: number;
}

const WHERE = "localVms()";
const OPTION_NAMES = ["slots", "env", "execArgv", "killGraceMs", "maxOutputBytes", "terminateGraceMs"];

/** Checks every option once, up front; throws E_INVALID_OPTION naming the option, what was expected and what came. */
export function resolveLocalOptions(options: LocalVmsOptions | undefined): ResolvedLocalOptions {
  if (options === undefined) options = {};
  checkOptionsObject(WHERE, options, OPTION_NAMES);
  const { slots, env, execArgv = [], killGraceMs = 500, maxOutputBytes = 1024 * 1024, terminateGraceMs = 500 } = options;
  if (slots !== undefined && !isSlots(slots)) throw invalidOption(WHERE, "slots", "an integer >= 1 or Infinity", slots);
  if (env !== undefined) {
    if (typeof env !== "object" || env === null || Array.isArray(env)) throw invalidOption(WHERE, "env", "an object of strings", env);
    for (const [key, value] of Object.entries(env)) {
      if (typeof value !== "string") throw invalidOption(WHERE, `env.${key}`, "a string", value);
    }
  }
  if (!Array.isArray(execArgv)) throw invalidOption(WHERE, "execArgv", "an array of strings", execArgv);
  execArgv.forEach((item, i) => {
    if (typeof item !== "string") throw invalidOption(WHERE, `execArgv[${i}]`, "a string", item);
  });
  checkDelayMs(WHERE, "killGraceMs", killGraceMs);
  if (!(maxOutputBytes === Infinity || (Number.isInteger(maxOutputBytes) && maxOutputBytes >= 0)))
    throw invalidOption(WHERE, "maxOutputBytes", "an integer >= 0 or Infinity", maxOutputBytes);
  checkDelayMs(WHERE, "terminateGraceMs", terminateGraceMs);
  if (process.platform === "win32") {
    throw new FlotillaError("E_INVALID_OPTION", `${WHERE}: local VMs run commands in POSIX process groups (Linux, macOS); this platform is win32`);
  }
  return { slots, env: env === undefined ? undefined : { ...env }, execArgv: [...execArgv], killGraceMs, maxOutputBytes, terminateGraceMs };
}
