/**
 * What an agent reads from Redis, checked before anything runs: a job's data (`AttemptData`), its
 * payload (`AttemptPayload`) and a cancel message. Errors sent as `ErrorWire` come back to life here
 * as Errors with their name, code, properties and flotilla's brand (so `instanceof CancelledError`
 * holds in a body that imports flotilla).
 */
import type { AttemptData, AttemptPayload, CancelMessage, ErrorWire } from "../wire.ts";
import { WIRE_VERSION } from "../wire.ts";

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The data if it is an AttemptData of this wire version, else what is wrong with it. */
export function checkAttemptData(data: unknown): AttemptData | string {
  if (!isObject(data)) return "the job's data is not an object";
  if (data.v !== WIRE_VERSION)
    return `the attempt is of wire version ${JSON.stringify(data.v)}; this agent speaks version ${WIRE_VERSION} (upgrade the older side)`;
  if (typeof data.key !== "string" || data.key === "") return "the attempt has no idempotency key";
  if (typeof data.taskId !== "string") return "the attempt has no taskId";
  if (!(Number.isInteger(data.attempt) && (data.attempt as number) >= 1)) return "the attempt's number is not an integer >= 1";
  if (typeof data.payload !== "string") return "the attempt's payload is not JSON text";
  const body = data.body;
  if (!isObject(body) || typeof body.kind !== "string") return "the attempt's body has no kind";
  if (body.kind === "worker-thread" && (typeof body.path !== "string" || typeof body.export !== "string" || body.export === "")) {
    return "the attempt's module body needs a path and an export name (strings)";
  }
  if (body.kind === "command") {
    if (!Array.isArray(body.argv) || !body.argv.every((a) => typeof a === "string")) return "the attempt's command body needs argv, an array of strings";
    if (!isObject(body.options)) return "the attempt's command body needs an options object";
  }
  return data as unknown as AttemptData;
}

/** The parsed payload, or what is wrong with it. */
export function parsePayload(text: string): AttemptPayload | string {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    return `the attempt's payload is not valid JSON: ${(error as Error).message}`;
  }
  if (!isObject(payload) || !isObject(payload.deps) || !isObject(payload.failures)) return "the attempt's payload must be { input?, deps: {}, failures: {} }";
  for (const wire of Object.values(payload.failures)) if (!isErrorWire(wire)) return "the attempt's payload has a failure that is not an ErrorWire";
  return payload as unknown as AttemptPayload;
}

export function isErrorWire(value: unknown): value is ErrorWire {
  return isObject(value) && typeof value.name === "string" && typeof value.message === "string" && typeof value.error === "boolean";
}

/** A cancel message's job id and reason, or undefined for anything else. */
export function checkCancel(data: unknown): CancelMessage | undefined {
  if (!isObject(data) || typeof data.jobId !== "string" || !isErrorWire(data.reason)) return undefined;
  return data as unknown as CancelMessage;
}

/** An ErrorWire as an Error (or, for a thrown non-error, its string form). */
export function revive(wire: ErrorWire): unknown {
  if (!wire.error) return wire.message;
  const error = new Error(wire.message);
  const define = (key: PropertyKey, value: unknown, enumerable: boolean): void => {
    Object.defineProperty(error, key, { value, configurable: true, writable: true, enumerable });
  };
  define("name", wire.name, false);
  if (wire.stack !== undefined) define("stack", wire.stack, false);
  if (wire.code !== undefined) define("code", wire.code, true);
  for (const [key, value] of Object.entries(wire.props ?? {})) if (!(key in error)) define(key, value, true);
  if (wire.brand) Object.defineProperty(error, Symbol.for("flotilla.error"), { value: true });
  return error;
}
