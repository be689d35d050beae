/** The options of `bullmq()`, their defaults and their one check. */
import { fileURLToPath, pathToFileURL } from "node:url";
import { FlotillaError, describe } from "../../src/errors.ts";
import type { RedisConnection, ResolvedConnection } from "./connection.ts";
import { resolveConnection } from "./connection.ts";
import { type BootOptions, type ResolvedBoot, resolveBoot } from "./coordinator/boot-options.ts";
import { checkPrefix, checkQueueName } from "./names.ts";

/** Options of `bullmq()`. */
export interface BullmqOptions {
  /** Where Redis is: a URL (`redis://`, `rediss://` for TLS), ioredis options (auth, TLS: passed through), or an ioredis client of yours. */
  readonly connection: RedisConnection;
  /** The queue's name: the agents started with `--queue NAME` are this pool's nodes. Letters, digits, "-", "_" (1–40). */
  readonly queue: string;
  /** BullMQ's key prefix, as the agents were given it. @default "bull" */
  readonly prefix?: string;
  /**
   * This machine's copy of the agents' modules folder: a `workerTask(url, ...)` whose module is in it is
   * sent as its path relative to it (the agent resolves that path under its own `--modules`). A worker
   * module outside it is refused before it is sent. Without it, worker modules cannot be sent.
   */
  readonly modules?: string | URL;
  /** Most agents a run uses at once. @default 64. Bounds: integer >= 1. */
  readonly maxNodes?: number;
  /**
   * The most attempts placed on an agent per unit of its concurrency: it runs `concurrency` of them
   * and the others wait in its queue, so it never idles between an answer and the next job (throughput:
   * see bench/README.md). How many wait is sized by time, about 25 ms of the agent's work as its
   * answers show (one round until the first answer): tiny tasks get a deep queue, long ones none. A
   * waiting attempt has not started: its `task:start` and `timeoutMs` begin when the agent takes it
   * (BullMQ's "active" event). 1: no attempt waits. @default 16. Bounds: integer from 1 to 64.
   */
  readonly prefetch?: number;
  /** Largest payload (input and dependency outputs, as JSON) sent to an agent, in bytes. @default 1_048_576 (1 MiB) */
  readonly maxPayloadBytes?: number;
  /** How often the agents' liveness is checked (and lost results looked for). @default 1000 */
  readonly heartbeatMs?: number;
  /** An agent not seen alive for this long, while Redis answers, is lost: its attempts are requeued. @default 3000 */
  readonly lostAfterMs?: number;
  /** How long Redis may be unreachable before the attempts in flight are given up (E_REDIS_UNAVAILABLE) and starts fail. @default 30000 */
  readonly redisTimeoutMs?: number;
  /** After a cancel reached an agent, how long to wait for its answer before the attempt is given up anyway. @default 10000 */
  readonly cancelAnswerMs?: number;
  /** Names the provider in messages. @default `bullmq:<queue>` */
  readonly name?: string;
  /**
   * Boot the pool's own agents on VMs instead of taking agents already on the queue: each node is a VM
   * made through `boot.driver` (a `VmDriver`; `localVms()` from flotilla/cloud-vm in tests) running
   * `flotilla agent`, so the pool's autoscaling makes and deletes agents. @default none
   */
  readonly boot?: BootOptions;
}

export interface ResolvedOptions {
  readonly connection: ResolvedConnection;
  readonly queue: string;
  readonly prefix: string;
  /** The modules folder as a file: URL ending in "/", or undefined. */
  readonly modules: string | undefined;
  readonly maxNodes: number;
  readonly maxPayloadBytes: number;
  readonly prefetch: number;
  readonly heartbeatMs: number;
  readonly lostAfterMs: number;
  readonly redisTimeoutMs: number;
  readonly cancelAnswerMs: number;
  readonly name: string;
  readonly boot: ResolvedBoot | undefined;
}

const NAMES = [
  "connection",
  "queue",
  "prefix",
  "modules",
  "maxNodes",
  "maxPayloadBytes",
  "prefetch",
  "heartbeatMs",
  "lostAfterMs",
  "redisTimeoutMs",
  "cancelAnswerMs",
  "name",
  "boot",
];

export function resolveOptions(options: unknown): ResolvedOptions {
  const where = "bullmq(options)";
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new FlotillaError("E_INVALID_OPTION", `${where}: options must be an object ({ connection, queue, ... }), received ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!NAMES.includes(key)) throw new FlotillaError("E_INVALID_OPTION", `${where}: unknown option "${key}"; the options are ${NAMES.join(", ")}`);
  }
  const queue = checkQueueName(where, o.queue);
  const name = o.name ?? `bullmq:${queue}`;
  if (typeof name !== "string" || name.length === 0)
    throw new FlotillaError("E_INVALID_OPTION", `${where}: name must be a non-empty string, received ${describe(name)}`);
  const modules = modulesFolder(where, o.modules);
  return {
    connection: resolveConnection(where, o.connection),
    queue,
    prefix: checkPrefix(where, o.prefix),
    modules,
    maxNodes: integer(where, "maxNodes", o.maxNodes, 64, 1),
    maxPayloadBytes: integer(where, "maxPayloadBytes", o.maxPayloadBytes, 1_048_576, 1),
    prefetch: integer(where, "prefetch", o.prefetch, 16, 1, 64),
    heartbeatMs: integer(where, "heartbeatMs", o.heartbeatMs, 1000, 1),
    lostAfterMs: integer(where, "lostAfterMs", o.lostAfterMs, 3000, 0),
    redisTimeoutMs: integer(where, "redisTimeoutMs", o.redisTimeoutMs, 30_000, 1),
    cancelAnswerMs: integer(where, "cancelAnswerMs", o.cancelAnswerMs, 10_000, 0),
    name,
    boot: resolveBoot(where, o.boot, o.connection, modules),
  };
}

function integer(where: string, name: string, value: unknown, fallback: number, min: number, max = 2 ** 31 - 1): number {
  if (value === undefined) return fallback;
  if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) return value;
  throw new FlotillaError(
    "E_INVALID_OPTION",
    `${where}: ${name} must be an integer from ${min} to ${max === 2 ** 31 - 1 ? "2^31-1" : max}, received ${describe(value)}`,
  );
}

function modulesFolder(where: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  if (value instanceof URL && value.protocol === "file:") url = value;
  else if (typeof value === "string" && value.length > 0) {
    url = value.startsWith("file:") ? new URL(value) : pathToFileURL(value);
  }
  if (url === undefined) throw new FlotillaError("E_INVALID_OPTION", `${where}: modules must be a folder's path or file: URL, received ${describe(value)}`);
  const href = pathToFileURL(fileURLToPath(url)).href; // normalised: no "..", percent-encoding as Node writes it
  return href.endsWith("/") ? href : `${href}/`;
}
