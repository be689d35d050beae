/**
 * A task's body and context as an agent is sent them (wire.ts): a worker module as a path relative to
 * the modules folder, a command as its spec in JSON, the input and dependency outputs as one JSON text
 * checked against the size limit. Everything that cannot be sent fails here, before Redis, with a
 * message naming the task and what to change.
 */
import { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";
import { FlotillaError, messageOf } from "../../../src/errors.ts";
import { bodyName, jsonCulprit } from "../../../src/provider-kit/index.ts";
import type { TaskContext } from "../../../src/task-context.ts";
import { BULLMQ_ERROR_CODES } from "../errors.ts";
import type { ResolvedOptions } from "../options.ts";
import { type AttemptPayload, type CommandBody, type ErrorWire, type ModuleBody, bodyBytes, errorWire, utf8Bytes } from "../wire.ts";

/** The body kinds agents run. */
export const REMOTE_KINDS = Object.freeze(["worker-thread", "command"]);

const bodies = new WeakMap<object, ModuleBody | CommandBody>();
/**
 * A module's path relative to the modules folder, by folder and module URL: a job's tasks are each a
 * spec of their own, but name few modules (two fileURLToPath calls per task were ~4% of the
 * coordinator's CPU). Emptied past MODULES_KEPT entries, so a stream of distinct URLs cannot grow it.
 */
const relativePaths = new Map<string, string>();
const MODULES_KEPT = 10_000;

/** What the agent is sent for `body` (cached per spec); throws E_INVALID_OPTION for a body no agent can run. */
export function encodeBody(body: unknown, taskId: string, options: ResolvedOptions): ModuleBody | CommandBody {
  if (typeof body !== "object" || body === null) throw notRemote(body, taskId, options);
  const cached = bodies.get(body);
  if (cached !== undefined) return cached;
  const spec = body as { kind?: unknown; module?: unknown; export?: unknown; argv?: unknown; options?: Record<string, unknown> };
  let wire: ModuleBody | CommandBody;
  if (spec.kind === "worker-thread" && typeof spec.module === "string" && typeof spec.export === "string")
    wire = moduleBody(spec.module, spec.export, taskId, options);
  else if (spec.kind === "command" && Array.isArray(spec.argv)) wire = commandBody(spec.argv as string[], spec.options ?? {}, taskId);
  else throw notRemote(body, taskId, options);
  bodies.set(body, wire);
  return wire;
}

function moduleBody(module: string, exportName: string, taskId: string, options: ResolvedOptions): ModuleBody {
  const folder = options.modules;
  if (folder === undefined) {
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `task "${taskId}": provider "${options.name}" cannot send worker module ${module} to an agent: give bullmq() the \`modules\` option (this machine's copy of the folder the agents run with --modules)`,
    );
  }
  if (!module.startsWith(folder)) {
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `task "${taskId}": worker module ${module} is outside the modules folder ${folder} of provider "${options.name}"; agents run only modules under their --modules folder`,
    );
  }
  // The path as the file system spells it (percent-decoded), relative to the folder, with "/".
  const key = `${folder}\n${module}`;
  let path = relativePaths.get(key);
  if (path === undefined) {
    path = fileURLToPath(module).slice(fileURLToPath(folder).length).split("\\").join("/");
    if (relativePaths.size >= MODULES_KEPT) relativePaths.clear();
    relativePaths.set(key, path);
  }
  return { kind: "worker-thread", path, export: exportName };
}

function commandBody(argv: readonly string[], options: Record<string, unknown>, taskId: string): CommandBody {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (key === "env") {
      const env: Record<string, string | null> = {};
      for (const [name, v] of Object.entries(value as Record<string, unknown>)) env[name] = typeof v === "string" ? v : null;
      out.env = env;
    } else if (key === "cwd") out.cwd = value instanceof URL ? fileURLToPath(value) : value;
    else if (key === "stdin")
      out.stdinBase64 = Buffer.from(typeof value === "string" ? new TextEncoder().encode(value) : (value as Uint8Array)).toString("base64");
    else if (key === "maxOutputBytes") out.maxOutputBytes = value === Infinity ? null : value;
    else if (["inheritEnv", "shell", "output", "killGraceMs"].includes(key)) out[key] = value;
    else throw new FlotillaError("E_INVALID_OPTION", `task "${taskId}": command option "${key}" cannot be sent to an agent`);
  }
  return { kind: "command", argv: [...argv], options: out as CommandBody["options"] };
}

/** The attempt's payload as JSON text, or an error naming the value that cannot cross or the sizes. */
export function encodePayload(body: unknown, wire: ModuleBody | CommandBody, ctx: TaskContext<any>, options: ResolvedOptions): string {
  const input = (body as { kind?: unknown; input?: unknown }).kind === "worker-thread" ? (body as { input?: unknown }).input : undefined;
  const failures: Record<string, ErrorWire> = {};
  for (const [id, error] of Object.entries(ctx.failures as Record<string, unknown>)) failures[id] = errorWire(error);
  const payload: AttemptPayload =
    input === undefined ? { deps: ctx.deps as Record<string, unknown>, failures } : { input, deps: ctx.deps as Record<string, unknown>, failures };
  let text: string;
  try {
    text = JSON.stringify(payload);
  } catch (error) {
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `task "${ctx.taskId}" attempt ${ctx.attempt}: its input or its dependencies' outputs cannot be sent to an agent as JSON${jsonCulprit(input, ctx.deps)}: ${messageOf(error)}`,
      { cause: error },
    );
  }
  const bytes = utf8Bytes(text);
  const command = bodyBytes(wire);
  if (bytes + command > options.maxPayloadBytes) {
    const parts = command > 0 ? `, and its command (argv, env, stdin) ${command} bytes` : "";
    throw new FlotillaError(
      BULLMQ_ERROR_CODES.E_PAYLOAD_TOO_LARGE,
      `task "${ctx.taskId}" attempt ${ctx.attempt}: its input and dependencies' outputs are ${bytes} bytes as JSON${parts}, over the ${options.maxPayloadBytes} bytes provider "${options.name}" sends through Redis (maxPayloadBytes)${command > bytes ? "; the largest is the command" : largest(input, ctx.deps)}`,
    );
  }
  return text;
}

function notRemote(body: unknown, taskId: string, options: ResolvedOptions): FlotillaError {
  return new FlotillaError(
    "E_INVALID_OPTION",
    `task "${taskId}": agents of provider "${options.name}" run workerTask(module, export, input) bodies and command([...]) bodies, received ${bodyName(body)}`,
  );
}

/** `; the largest is dependency "x" (900000 bytes)`, to say what to shrink. */
function largest(input: unknown, deps: unknown): string {
  let best = "";
  let size = -1;
  const consider = (what: string, value: unknown) => {
    const n = value === undefined ? 0 : utf8Bytes(JSON.stringify(value) ?? "");
    if (n > size) [best, size] = [what, n];
  };
  consider("the input", input);
  for (const [id, value] of Object.entries((deps ?? {}) as Record<string, unknown>)) consider(`dependency "${id}"`, value);
  return size > 0 ? `; the largest is ${best} (${size} bytes)` : "";
}
