/**
 * The errors a provider raises about its nodes, built in one place so every adapter words them alike:
 * a node lost under an attempt or while idle, a node stopped under an attempt, `run` on a node that is
 * gone, and `run` on a node the provider never started (and how they name a body they cannot run).
 */
import { FlotillaError, NodeLostError, describe } from "../errors.ts";

/** Which attempt a message is about (a `TaskContext` is one). */
export interface AttemptRef {
  readonly taskId: string;
  readonly attempt: number;
}

/** `task "load" attempt 2`: how messages name an attempt. */
export function attemptName(attempt: AttemptRef): string {
  return `task "${attempt.taskId}" attempt ${attempt.attempt}`;
}

/**
 * The node died (a crashed thread, a preempted VM, a worker that stopped answering). Under an
 * attempt, `run` rejects with it: `node "vm-3" was lost running task "load" attempt 2: <why>`;
 * without one, for `NodeReport.lost`: `node "vm-3" was lost while idle: <why>`.
 *
 * @example nodeLostError(node.id, ctx, `its worker thread exited with code ${code}`)
 */
export function nodeLostError(nodeId: string, attempt: AttemptRef | undefined, why: string, cause?: unknown): NodeLostError {
  const where = attempt === undefined ? "while idle" : `running ${attemptName(attempt)}`;
  return new NodeLostError(nodeId, `node "${nodeId}" was lost ${where}: ${why}`, cause === undefined ? undefined : { cause });
}

/**
 * The run stopped the node (`stopNode`) while an attempt was on it, and the provider ended the work:
 * `task "build" attempt 1: node "n" was stopped while <work> ran; <fate>`.
 *
 * @example nodeStoppedError(node.id, ctx, `command ["make"]`, "it was killed")
 */
export function nodeStoppedError(nodeId: string, attempt: AttemptRef, work: string, fate: string): NodeLostError {
  return new NodeLostError(nodeId, `${attemptName(attempt)}: node "${nodeId}" was stopped while ${work} ran; ${fate}`);
}

/** `run` was called on a node that is lost or stopped: `node "n" is stopped; task "t" attempt 1 cannot run on it`. */
export function nodeGoneError(nodeId: string, state: "lost" | "stopped", attempt: AttemptRef): NodeLostError {
  return new NodeLostError(nodeId, `node "${nodeId}" is ${state}; ${attemptName(attempt)} cannot run on it`);
}

/** `run` was called on a node the provider did not start (E_INVALID_OPTION). Reads `node.id` safely. */
export function foreignNodeError(provider: string, node: unknown, taskId: string): FlotillaError {
  let id: unknown;
  try {
    id = (node as { id?: unknown } | null | undefined)?.id;
  } catch {
    id = undefined; // an id getter that throws: not a node of ours either way
  }
  return new FlotillaError("E_INVALID_OPTION", `task "${taskId}": provider "${provider}" was asked to run on node ${describe(id)}, which it did not start`);
}

/** `a function`, `a spec of kind "command"`: how messages name a body a provider cannot run. */
export function bodyName(body: unknown): string {
  if (typeof body === "function") return "a function";
  if (typeof body === "object" && body !== null) return `a spec of kind ${describe((body as { kind?: unknown }).kind)}`;
  return describe(body);
}
