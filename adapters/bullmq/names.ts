/**
 * Where things live in Redis, derived from the queue's name: one BullMQ queue per agent (the
 * coordinator places each attempt on a node, and a node is an agent), the agents' descriptions in one
 * hash, and one Relay namespace per queue (agents' liveness, and cancels sent to one agent).
 */
import { FlotillaError, describe } from "../../src/errors.ts";

/** BullMQ's default key prefix. */
export const DEFAULT_PREFIX = "bull";

/** Queue names and agent ids: what BullMQ queue names and Relay ids both accept, short enough to combine. */
const NAME = /^[A-Za-z0-9_-]{1,40}$/;

/** Throws E_INVALID_OPTION unless `value` is a queue name flotilla can use. */
export function checkQueueName(where: string, value: unknown): string {
  if (typeof value === "string" && NAME.test(value)) return value;
  throw new FlotillaError(
    "E_INVALID_OPTION",
    `${where}: queue must be 1 to 40 letters, digits, "-" or "_" (it names BullMQ queues and a Relay namespace), received ${describe(value)}`,
  );
}

/** Throws E_INVALID_OPTION unless `value` is an agent id flotilla can use. */
export function checkAgentId(where: string, value: unknown): string {
  if (typeof value === "string" && NAME.test(value)) return value;
  throw new FlotillaError("E_INVALID_OPTION", `${where}: an agent's name must be 1 to 40 letters, digits, "-" or "_", received ${describe(value)}`);
}

/** Throws E_INVALID_OPTION unless `value` is a usable key prefix. */
export function checkPrefix(where: string, value: unknown): string {
  if (value === undefined) return DEFAULT_PREFIX;
  if (typeof value === "string" && value.length > 0 && !/\s/.test(value)) return value;
  throw new FlotillaError("E_INVALID_OPTION", `${where}: prefix must be a non-empty string without spaces, received ${describe(value)}`);
}

/** The BullMQ queue one agent pulls its attempts from. */
export function agentQueueName(queue: string, agentId: string): string {
  return `${queue}-agent-${agentId}`;
}

/** The Relay namespace of a queue: agents are its nodes (their lease is their heartbeat). */
export function relayNamespace(queue: string): string {
  return `flotilla-${queue}`;
}

/** The Relay topic one agent hears its cancels on. */
export function cancelTopic(agentId: string): string {
  return `cancel.${agentId}`;
}

/** The hash of agent descriptions (AgentInfo as JSON, by agent id). */
export function agentsKey(prefix: string, queue: string): string {
  return `${prefix}:flotilla:${queue}:agents`;
}
