/**
 * flotilla/bullmq: run a job's tasks on agents on other machines, through BullMQ queues on Redis. The
 * DAG, its order and its policies stay in the coordinator (this process); each ready attempt becomes
 * a BullMQ job on one agent's queue, and its result comes back through BullMQ.
 *
 * - `bullmq({ connection, queue, modules })`: the provider; its nodes are the live agents of the queue.
 * - `startAgent(...)` / `flotilla agent --redis URL --queue NAME --modules DIR`: an agent.
 * - `redisJournal({ connection, key })`: a journal in Redis, so a coordinator restarted elsewhere resumes.
 *
 * Files: provider.ts (the factory), options.ts, connection.ts (where Redis is), names.ts (keys, queues,
 * topics), wire.ts (what crosses Redis), errors.ts; coordinator/ (hub.ts: nodes, attempts in flight,
 * heartbeat; remote-attempt.ts: one attempt; encode.ts: bodies and payloads as sent; transport.ts:
 * the queue as an interface, bullmq-transport.ts: on BullMQ); agent/ (the agent).
 */
export { bullmq } from "./provider.ts";
export type { BullmqOptions } from "./options.ts";
export type { LocalBody } from "./body.ts";
export type { AgentNode } from "./coordinator/agent-node.ts";
export type { BootOptions } from "./coordinator/boot-options.ts";
export type { RedisConnection } from "./connection.ts";
export type { AgentInfo } from "./wire.ts";
export { redisJournal, type RedisJournalOptions } from "./redis-journal.ts";
export { startAgent, type Agent, type AgentOptions, type AgentEvent } from "./agent/index.ts";
export { BULLMQ_ERROR_CODES, RemoteRefusedError, type RemoteRefusal } from "./errors.ts";
