/** An attempt's outcome as an agent sent it, made a value or an error again on the coordinator's side. */
import { FlotillaError } from "../../../src/errors.ts";
import { RemoteRefusedError } from "../errors.ts";
import type { AttemptResult, ErrorWire } from "../wire.ts";

/** The body's error again: its name, message, stack, code and properties; a flotilla error keeps its brand (and code). */
export function reviveError(wire: ErrorWire): unknown {
  if (!wire.error) return wire.message; // a thrown string (or other value), as its text
  const error: Error = wire.brand && wire.code !== undefined ? new FlotillaError(wire.code, wire.message) : new Error(wire.message);
  Object.defineProperty(error, "name", { value: wire.name, configurable: true, writable: true });
  if (wire.stack !== undefined) Object.defineProperty(error, "stack", { value: wire.stack, configurable: true, writable: true });
  if (wire.code !== undefined && !(error instanceof FlotillaError)) {
    Object.defineProperty(error, "code", { value: wire.code, configurable: true, writable: true, enumerable: true });
  }
  for (const [key, value] of Object.entries(wire.props ?? {})) {
    if (!(key in error)) Object.defineProperty(error, key, { value, configurable: true, writable: true, enumerable: true });
  }
  return error;
}

/** Settles with `result`: the output, or the error to reject with. */
export function readResult(result: unknown, agentId: string, where: string): { ok: true; value: unknown } | { ok: false; error: unknown } {
  const r = result as AttemptResult | null;
  if (typeof r !== "object" || r === null) return { ok: false, error: new Error(`${where}: agent "${agentId}" answered with something that is not a result`) };
  if (r.t === "ok") {
    if (r.json === undefined) return { ok: true, value: undefined };
    try {
      return { ok: true, value: JSON.parse(r.json) };
    } catch (error) {
      return { ok: false, error };
    }
  }
  if (r.t === "threw") return { ok: false, error: reviveError(r.error) };
  if (r.t === "refused") return { ok: false, error: new RemoteRefusedError(r.refusal, agentId, `${where}: agent "${agentId}" refused it: ${r.message}`) };
  return { ok: false, error: new Error(`${where}: agent "${agentId}" answered with an unknown result`) };
}
