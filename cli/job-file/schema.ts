/**
 * The shape of a job file, as zod schemas: every key, its type and bounds, with the text each value is
 * expected to be (that text is the schema's error, so a problem reads "expected <text>, found <value>").
 * The file is checked in parts (the top, each pool by its provider, each task), so one bad part never
 * hides the problems of another; what zod cannot say (ids, pools, cycles, files) is checked in checks.ts.
 */
import { z } from "zod";
import { MAX_TIMER_MS } from "../../src/validation.ts";

const string = (expected: string) => z.string({ error: expected }).min(1, { error: expected });
const integer = (min: number, expected = `an integer >= ${min}`) => z.int({ error: expected }).min(min, { error: expected });
const number = (min: number, expected: string) => z.number({ error: expected }).min(min, { error: expected });
const ms = (expected = "a number of milliseconds >= 0") => z.number({ error: expected }).min(0, { error: expected }).max(MAX_TIMER_MS, { error: expected });
const positiveMs = (expected = "a number of milliseconds > 0") => z.number({ error: expected }).positive({ error: expected });
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `one of ${values.map((v) => JSON.stringify(v)).join(", ")}` });
/** YAML reads `[sleep, 1]` as a number 1: the message says how to write the string. */
const SCALAR_STRING = 'a string (quote numbers and true/false: "1")';
const strings = (expected: string) => z.record(z.string(), z.string({ error: SCALAR_STRING }), { error: expected });

/** A latency of the simulated cloud: fixed, or drawn from `min..max` per event. */
const latency = z.union(
  [
    integer(0, "an integer number of milliseconds >= 0"),
    z.strictObject({ min: integer(0, "an integer number of milliseconds >= 0"), max: integer(0, "an integer number of milliseconds >= 0") }),
  ],
  { error: "milliseconds: an integer >= 0, or { min, max }" },
);

/** The top of a job file; `pools` and `tasks` entries are checked on their own (below). */
export const FILE_SCHEMA = z.strictObject(
  {
    /** For editors that validate against a JSON schema; ignored. */
    $schema: z.string({ error: "a string" }).optional(),
    name: string("a non-empty string (the job's name)"),
    description: z.string({ error: "a string" }).optional(),
    defaults: z.unknown().optional(),
    pools: z.record(z.string(), z.unknown(), { error: "an object of pools by name: { <name>: { provider, … } }" }).optional(),
    tasks: z.array(z.unknown(), { error: "an array of tasks" }).min(1, { error: "an array of at least one task" }),
  },
  { error: "an object { name, pools, tasks }" },
);

export const PROVIDERS = ["processes", "threads", "cloud"] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** `defaults`: what every task gets unless it says otherwise. */
export const DEFAULTS_SCHEMA = z.strictObject(
  {
    estimateMs: ms("a number of milliseconds >= 0 (how long the dry run assumes a task takes)").optional(),
    pool: string("the name of a pool").optional(),
    retries: integer(0).optional(),
    timeoutMs: positiveMs().optional(),
    cwd: string("a directory path (relative to the job file)").optional(),
    env: strings("an object of strings (environment variables of every command)").optional(),
  },
  { error: "an object { estimateMs, pool, retries, timeoutMs, cwd, env }" },
);

export type DefaultsDecl = z.infer<typeof DEFAULTS_SCHEMA>;

/** The part of a pool checked first, to pick the schema of its provider. */
export const POOL_HEAD_SCHEMA = z.object(
  { provider: oneOf(PROVIDERS) },
  { error: `an object { provider, … } (provider: ${PROVIDERS.map((p) => JSON.stringify(p)).join(", ")})` },
);

export const POOL_SCHEMAS = {
  /** flotilla/child-process `childProcess()`: one node, this machine, `slots` commands at once. */
  processes: z.strictObject({
    provider: z.literal("processes"),
    slots: integer(1).optional(),
    killGraceMs: ms().optional(),
    maxOutputBytes: integer(0).optional(),
  }),
  /** flotilla/worker-threads `workerThreads()`: `threads` nodes of `tasksPerThread` slots. */
  threads: z.strictObject({
    provider: z.literal("threads"),
    threads: integer(1).optional(),
    tasksPerThread: integer(1).optional(),
    idleTimeoutMs: positiveMs().optional(),
    terminateGraceMs: ms().optional(),
  }),
  /** VMs of a simulated cloud (flotilla/testing `simulatedCloud` behind flotilla/cloud-vm `cloudVm`): dry runs only. */
  cloud: z.strictObject({
    provider: z.literal("cloud"),
    maxNodes: integer(0).optional(),
    minNodes: integer(0).optional(),
    lowPriority: z.strictObject({ minNodes: integer(0).optional(), maxNodes: integer(0).optional() }, { error: "an object { minNodes, maxNodes }" }).optional(),
    slotsPerNode: integer(1).optional(),
    startLatencyMs: latency.optional(),
    apiLatencyMs: latency.optional(),
    deleteLatencyMs: latency.optional(),
    costPerNodeHour: z
      .union(
        [number(0, "a number >= 0"), z.strictObject({ dedicated: number(0, "a number >= 0").optional(), lowPriority: number(0, "a number >= 0").optional() })],
        { error: "a price per node-hour >= 0, or { dedicated, lowPriority }" },
      )
      .optional(),
    preemptionsPerHour: number(0, "a number >= 0").optional(),
    startFailureRate: z
      .number({ error: "a number from 0 to 1" })
      .min(0, { error: "a number from 0 to 1" })
      .max(1, { error: "a number from 0 to 1" })
      .optional(),
    idleTimeoutMs: ms().optional(),
    placement: oneOf(["pack", "spread"]).optional(),
    maxConcurrentStarts: integer(1).optional(),
    maxConcurrentCalls: integer(1).optional(),
  }),
} as const;

export type ProcessesPoolDecl = z.infer<typeof POOL_SCHEMAS.processes>;
export type ThreadsPoolDecl = z.infer<typeof POOL_SCHEMAS.threads>;
export type CloudPoolDecl = z.infer<typeof POOL_SCHEMAS.cloud>;
export type PoolDecl = ProcessesPoolDecl | ThreadsPoolDecl | CloudPoolDecl;

/** Most tasks one range makes. */
export const MAX_RANGE = 1_000_000;

export const TASK_SCHEMA = z.strictObject(
  {
    id: string("a non-empty task id"),
    command: z
      .union(
        [
          string("a shell line"),
          z
            .array(z.string({ error: SCALAR_STRING }), { error: "an array of strings" })
            .min(1, { error: "an array of at least one string (the program, then its arguments)" }),
        ],
        { error: "an array of strings (the program, then its arguments), or one string with shell: true" },
      )
      .optional(),
    shell: z.boolean({ error: "true or false" }).optional(),
    worker: z
      .strictObject(
        {
          module: string("a module path (relative to the job file)"),
          export: string("the name of an exported function").optional(),
          input: z.unknown().optional(),
        },
        { error: "an object { module, export, input }" },
      )
      .optional(),
    dependsOn: z.array(string("a task id, or a range of ids like shard-[1..50]"), { error: "an array of task ids" }).optional(),
    retries: integer(0).optional(),
    backoff: z
      .strictObject(
        {
          initialMs: ms().optional(),
          factor: number(1, "a number >= 1").optional(),
          maxMs: ms().optional(),
          jitter: z.number({ error: "a number from 0 to 1" }).min(0, { error: "a number from 0 to 1" }).max(1, { error: "a number from 0 to 1" }).optional(),
        },
        { error: "an object { initialMs, factor, maxMs, jitter }" },
      )
      .optional(),
    timeoutMs: positiveMs().optional(),
    onFailure: oneOf(["block", "satisfy"]).optional(),
    priority: z.number({ error: "a finite number" }).optional(),
    pool: string("the name of a pool").optional(),
    slots: integer(1).optional(),
    estimateMs: ms("a number of milliseconds >= 0 (how long the dry run assumes the task takes)").optional(),
    env: strings("an object of strings (environment variables)").optional(),
    inheritEnv: z.boolean({ error: "true or false" }).optional(),
    cwd: string("a directory path (relative to the job file)").optional(),
    stdin: z.string({ error: "a string" }).optional(),
    output: oneOf(["text", "json", "none"]).optional(),
    range: z
      .strictObject(
        { from: integer(Number.MIN_SAFE_INTEGER, "an integer"), to: integer(Number.MIN_SAFE_INTEGER, "an integer") },
        { error: "an object { from, to } of integers" },
      )
      .optional(),
  },
  { error: "an object { id, command | worker, … }" },
);

export type FileDecl = z.infer<typeof FILE_SCHEMA>;
export type TaskDecl = z.infer<typeof TASK_SCHEMA>;
/** The keys a command task may have and a worker task may not. */
export const COMMAND_ONLY_KEYS = ["shell", "env", "inheritEnv", "cwd", "stdin", "output"] as const;
