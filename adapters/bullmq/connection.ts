/**
 * How flotilla/bullmq is told where Redis is, the same for the provider, the agent and the journal: a
 * URL (`redis://user:pass@host:6379/0`, `rediss://` for TLS), ioredis options (`host`, `port`,
 * `username`, `password`, `tls`, `db`, ...: passed through to ioredis as they are), or an ioredis
 * client of the caller's (used as it is, and never closed by flotilla).
 */
import { Redis, type RedisOptions } from "ioredis";
import { FlotillaError, describe } from "../../src/errors.ts";

/** Where Redis is: a URL, ioredis options, or an ioredis client of yours (flotilla never closes it). */
export type RedisConnection = string | RedisOptions | Redis;

/** A connection resolved: the options a new client takes, or the caller's client. */
export type ResolvedConnection = { readonly kind: "options"; readonly options: RedisOptions } | { readonly kind: "client"; readonly client: Redis };

/** Checks `connection` (throws E_INVALID_OPTION naming `where`) and resolves it. */
export function resolveConnection(where: string, connection: unknown): ResolvedConnection {
  if (connection instanceof Redis) return { kind: "client", client: connection };
  if (typeof connection === "string") {
    let url: URL;
    try {
      url = new URL(connection);
    } catch {
      throw badConnection(where, connection);
    }
    if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw badConnection(where, connection);
    return { kind: "options", options: urlOptions(url) };
  }
  if (typeof connection === "object" && connection !== null && !Array.isArray(connection)) {
    return { kind: "options", options: { ...(connection as RedisOptions) } };
  }
  throw badConnection(where, connection);
}

/**
 * A new ioredis client for `connection` (BullMQ's rule: `maxRetriesPerRequest: null`, so a command
 * waits for a reconnect instead of failing). `owned` says whether the caller must `quit()` it.
 */
export function newClient(connection: ResolvedConnection, name?: string): { readonly client: Redis; readonly owned: boolean } {
  if (connection.kind === "client") return { client: connection.client, owned: false };
  const options: RedisOptions = { maxRetriesPerRequest: null, ...connection.options };
  if (name !== undefined && options.connectionName === undefined) options.connectionName = name;
  return { client: new Redis(options), owned: true };
}

/** The options BullMQ's classes are given (they make their own connections, also blocking ones). */
export function bullmqConnection(connection: ResolvedConnection): RedisOptions | Redis {
  if (connection.kind === "client") return connection.client;
  return { maxRetriesPerRequest: null, ...connection.options };
}

/** Where a connection points, for messages: host:port (never the password). */
export function connectionName(connection: ResolvedConnection): string {
  const options = connection.kind === "client" ? connection.client.options : connection.options;
  if (typeof options.path === "string") return options.path;
  return `${options.host ?? "127.0.0.1"}:${options.port ?? 6379}`;
}

function urlOptions(url: URL): RedisOptions {
  const options: RedisOptions = {
    host: url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: url.port === "" ? 6379 : Number(url.port),
  };
  if (url.username !== "") options.username = decodeURIComponent(url.username);
  if (url.password !== "") options.password = decodeURIComponent(url.password);
  const db = url.pathname.replace(/^\//, "");
  if (db !== "") {
    const n = Number(db);
    if (!Number.isInteger(n) || n < 0)
      throw new FlotillaError("E_INVALID_OPTION", `Redis URL ${redacted(url)}: the database must be a number, received "${db}"`);
    options.db = n;
  }
  if (url.protocol === "rediss:") options.tls = {};
  return options;
}

/** The URL without its password, for messages. */
export function redacted(url: URL | string): string {
  try {
    const copy = new URL(String(url));
    if (copy.password !== "") copy.password = "***";
    return copy.href;
  } catch {
    return "(not a URL)";
  }
}

function badConnection(where: string, value: unknown): FlotillaError {
  const shown = typeof value === "string" ? `"${redacted(value)}"` : describe(value);
  return new FlotillaError(
    "E_INVALID_OPTION",
    `${where}: connection must be a redis:// or rediss:// URL, ioredis options ({ host, port, password, tls, ... }) or an ioredis client, received ${shown}`,
  );
}
