/**
 * One attempt on the agent: its payload and body checked against the agent's limits and allow-list,
 * turned into the plain spec a local provider runs (a worker module by its file: URL, a command by its
 * argv), run on a local node with a TaskContext of its own, and its outcome as an AttemptResult. A
 * failed body is a result, never a throw: only the processor decides what BullMQ records.
 */
import type { ProviderNode } from "../../../src/provider.ts";
import type { TaskContext } from "../../../src/task-context.ts";
import { type AttemptData, type AttemptPayload, type AttemptResult, type CommandBody, bodyBytes, errorWire, utf8Bytes } from "../wire.ts";
import { parsePayload, revive } from "./attempt-data.ts";
import type { AbortPoint } from "./abort-point.ts";
import type { LocalNodes } from "./local-nodes.ts";
import { resolveModule } from "./modules.ts";
import type { ResolvedAgentOptions } from "./options.ts";
import type { LogBatcher } from "./progress.ts";

export interface AttemptRun {
  readonly options: ResolvedAgentOptions;
  readonly nodes: LocalNodes;
  readonly data: AttemptData;
  /** Aborted by its coordinator's cancel or a forced close. */
  readonly controller: AbortPoint;
  readonly log: LogBatcher;
}

const refused = (refusal: (AttemptResult & { t: "refused" })["refusal"], message: string): AttemptResult => ({ t: "refused", refusal, message });

export async function runAttempt(run: AttemptRun): Promise<AttemptResult> {
  const { options, data } = run;
  // The whole attempt counts: a command's stdin, argv and env cross Redis beside the payload.
  const size = utf8Bytes(data.payload) + bodyBytes(data.body);
  if (size > options.maxPayloadBytes) {
    return refused(
      "payload",
      `the attempt (its input, dependency outputs and failures, and a command's argv, env and stdin) is ${size} bytes, over agent "${options.id}"'s limit of ${options.maxPayloadBytes} bytes (maxPayloadBytes)`,
    );
  }
  const payload = parsePayload(data.payload);
  if (typeof payload === "string") return refused("version", payload);
  const kind = data.body.kind;
  if (!run.nodes.runs(kind)) {
    return refused("kind", `agent "${options.id}" does not run bodies of kind ${JSON.stringify(kind)}; it runs ${run.nodes.kinds.join(", ")}`);
  }
  let spec: unknown;
  if (data.body.kind === "worker-thread") {
    const module = await resolveModule(options.modules, data.body.path);
    if ("refused" in module) return refused("module", `agent "${options.id}": ${module.refused}`);
    spec = { kind: "worker-thread", module: module.href, export: data.body.export, input: payload.input };
  } else if (data.body.kind === "command") {
    const body = data.body as CommandBody;
    if (body.options.shell !== undefined && body.options.shell !== false && !options.allowShell) {
      return refused("shell", `agent "${options.id}" runs no command through a shell; start it with --allow-shell (allowShell: true) to allow it`);
    }
    spec = commandSpec(body, data.key);
  } else {
    // A kind a provider runs but the wire has no body for: nothing received is run as anything else.
    return refused("kind", `agent "${options.id}" cannot run a body of kind ${JSON.stringify(kind)} received over Redis`);
  }
  let output: unknown;
  try {
    output = await run.nodes.run(kind, spec, (node) => context(run, payload, node), run.controller);
  } catch (error) {
    return { t: "threw", error: errorWire(error) };
  }
  return outputResult(output, options);
}

function outputResult(output: unknown, options: ResolvedAgentOptions): AttemptResult {
  let json: string | undefined;
  try {
    json = JSON.stringify(output);
  } catch (error) {
    const message = `the attempt's output cannot be sent back from agent "${options.id}" as JSON: ${(error as Error).message}`;
    return { t: "threw", error: { error: true, name: "TypeError", message } };
  }
  if (json === undefined) return { t: "ok" };
  const size = utf8Bytes(json);
  if (size > options.maxOutputBytes) {
    return refused(
      "output",
      `the attempt's output is ${size} bytes as JSON, over agent "${options.id}"'s limit of ${options.maxOutputBytes} bytes (maxOutputBytes)`,
    );
  }
  return { t: "ok", json };
}

/** The command spec the child-process provider runs (it checks every option itself). */
function commandSpec(body: CommandBody, key: string): unknown {
  const o = body.options;
  const env: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(o.env ?? {})) env[name] = value === null ? undefined : value;
  // The same for every delivery of the attempt: a command can use it to do its work once.
  env.FLOTILLA_IDEMPOTENCY_KEY = key;
  // The agent's own Redis URL (with its password) is not the command's to read, unless the spec sets it.
  if (!("FLOTILLA_REDIS_URL" in env)) env.FLOTILLA_REDIS_URL = undefined;
  const options: Record<string, unknown> = { env };
  if (o.inheritEnv !== undefined) options.inheritEnv = o.inheritEnv;
  if (o.cwd !== undefined) options.cwd = o.cwd;
  if (o.stdinBase64 !== undefined) options.stdin = new Uint8Array(Buffer.from(o.stdinBase64, "base64"));
  if (o.shell !== undefined) options.shell = o.shell;
  if (o.output !== undefined) options.output = o.output;
  // JSON has no Infinity: null stands for "no cap".
  if (o.maxOutputBytes !== undefined) options.maxOutputBytes = o.maxOutputBytes === null ? Infinity : o.maxOutputBytes;
  if (o.killGraceMs !== undefined) options.killGraceMs = o.killGraceMs;
  return { kind: "command", argv: [...body.argv], options };
}

function context(run: AttemptRun, payload: AttemptPayload, node: ProviderNode): TaskContext<any> {
  const abort = run.controller;
  const failures: Record<string, unknown> = Object.create(null);
  for (const [id, wire] of Object.entries(payload.failures)) failures[id] = revive(wire);
  const onAbort = (listener: (reason: unknown) => void): (() => void) => abort.onAbort(listener);
  return {
    taskId: run.data.taskId,
    attempt: run.data.attempt,
    get signal() {
      return abort.signal;
    },
    deps: payload.deps,
    failures,
    node,
    onAbort,
    sleep: (ms) =>
      new Promise<void>((resolve, reject) => {
        if (abort.aborted) return reject(abort.reason);
        const unlisten = onAbort((reason) => {
          clearTimeout(timer);
          reject(reason);
        });
        const timer = setTimeout(() => {
          unlisten();
          resolve();
        }, ms);
      }),
    log: (line, stream) => run.log.add(line, stream),
  };
}
