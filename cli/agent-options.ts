/** The options of `flotilla agent`, checked once, with the messages a user sees for a bad value. */
import { FlotillaError } from "../src/errors.ts";
import { parseConcurrency } from "./options.ts";

/** What commander hands the agent action: every flag's raw value. */
export interface RawAgentFlags {
  redis?: string;
  queue?: string;
  concurrency?: string;
  modules?: string;
  name?: string;
  prefix?: string;
  allowShell?: boolean;
  inThread?: boolean;
  maxPayloadBytes?: string;
  maxOutputBytes?: string;
  leaseMs?: string;
  json?: boolean;
}

/** `flotilla agent [flags]`, as the command runs it (names, prefix and URL are checked by startAgent). */
export interface AgentCommandOptions {
  readonly redis: string;
  readonly queue: string;
  readonly concurrency: number | undefined;
  readonly modules: string | undefined;
  readonly name: string | undefined;
  readonly prefix: string | undefined;
  readonly allowShell: boolean;
  /** Worker modules run in the agent's thread (`inThread()`), not on worker threads. */
  readonly inThread: boolean;
  readonly maxPayloadBytes: number | undefined;
  readonly maxOutputBytes: number | undefined;
  readonly leaseMs: number | undefined;
  readonly json: boolean;
}

function wholeNumber(flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (/^\s*\d+\s*$/.test(text) && Number.isSafeInteger(value) && value >= min) return value;
  throw new FlotillaError("E_INVALID_OPTION", `${flag} must be a whole number >= ${min}, received ${JSON.stringify(text)}`);
}

/** Throws E_INVALID_OPTION (exit 2) for a missing or bad flag. `env` is where FLOTILLA_REDIS_URL is read. */
export function agentCommandOptions(flags: RawAgentFlags, env: Readonly<Record<string, string | undefined>>): AgentCommandOptions {
  // The URL may carry a password: from the environment, it stays off the command line (and out of `ps`).
  const redis = flags.redis ?? env.FLOTILLA_REDIS_URL;
  if (redis === undefined || redis === "") {
    throw new FlotillaError("E_INVALID_OPTION", "flotilla agent needs Redis: give --redis redis://HOST:PORT or set FLOTILLA_REDIS_URL");
  }
  if (flags.queue === undefined)
    throw new FlotillaError("E_INVALID_OPTION", "flotilla agent needs --queue NAME (the queue name of the coordinator's bullmq() pool)");
  const concurrency = flags.concurrency === undefined ? undefined : parseConcurrency(flags.concurrency);
  if (concurrency === Infinity)
    throw new FlotillaError("E_INVALID_OPTION", `--concurrency must be a whole number >= 1 for an agent, received "${flags.concurrency}"`);
  return {
    redis,
    queue: flags.queue,
    concurrency,
    modules: flags.modules,
    name: flags.name,
    prefix: flags.prefix,
    allowShell: flags.allowShell === true,
    inThread: flags.inThread === true,
    maxPayloadBytes: wholeNumber("--max-payload-bytes", flags.maxPayloadBytes, 1),
    maxOutputBytes: wholeNumber("--max-output-bytes", flags.maxOutputBytes, 1),
    leaseMs: wholeNumber("--lease-ms", flags.leaseMs, 30),
    json: flags.json === true,
  };
}
