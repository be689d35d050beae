/**
 * Models of the external services task bodies talk to (a database, a cloud API, a queue). Each call
 * takes effect after a simulated latency, at a moment the strategy picks among everything else that
 * is ready, so a race between two tasks that use the same service is explored like any other
 * interleaving; the `service.call` fault point can fail any call.
 */
import { FlotillaError, describe } from "../errors.ts";
import { serviceCallDetail, serviceCallLabel } from "../trace-labels.ts";
import { checkOptionsObject, invalidOption } from "../validation.ts";
import type { Runtime } from "../runtime.ts";
import { KIT_FAULT_POINTS } from "./vocabulary.ts";

const SERVICE_CALL = KIT_FAULT_POINTS["service.call"];

export interface ServiceOptions {
  /** Simulated latency of each call: a fixed number, or [min, max] drawn per call. @default [1, 10] */
  readonly latencyMs?: number | readonly [number, number];
}

export interface ServiceModel {
  readonly name: string;
  /**
   * Performs `effect` as the call `op` to this service: it runs atomically after the call's latency,
   * when the schedule gets to it, and its result (or error) is the call's. The `service.call` fault
   * point (detail `"<service>.<op>"`) can fail it instead.
   *
   * @example const exists = await db.call("get", () => rows.has(id));
   */
  call<T>(op: string, effect: () => T): Promise<Awaited<T>>;
}

export function serviceModel(runtime: Runtime, name: string, options: ServiceOptions = {}): ServiceModel {
  if (typeof name !== "string" || name.length === 0)
    throw new FlotillaError("E_INVALID_OPTION", `t.service(name): the name must be a non-empty string, received ${describe(name)}`);
  const where = `service "${name}"`;
  checkOptionsObject(where, options, ["latencyMs"]);
  const latency: unknown = options.latencyMs ?? [1, 10];
  const [min, max] = typeof latency === "number" ? [latency, latency] : Array.isArray(latency) && latency.length === 2 ? (latency as unknown[]) : [NaN, NaN];
  if (!(typeof min === "number" && typeof max === "number" && Number.isFinite(min) && Number.isFinite(max) && min >= 0 && max >= min)) {
    throw invalidOption(where, "latencyMs", "a number >= 0 or [min, max] with 0 <= min <= max", latency);
  }
  return {
    name,
    call<T>(op: string, effect: () => T): Promise<Awaited<T>> {
      if (typeof op !== "string" || op.length === 0 || typeof effect !== "function") {
        return Promise.reject(
          new FlotillaError(
            "E_INVALID_OPTION",
            `service "${name}": call(op, effect) needs an operation name and a function, received ${describe(op)} and ${describe(effect)}`,
          ),
        );
      }
      const ms = min + Math.floor(runtime.random() * (max - min + 1));
      const detail = serviceCallDetail(name, op);
      return new Promise<Awaited<T>>((resolve, reject) => {
        runtime.setTimer(
          ms,
          () => {
            const fault = runtime.fault?.(SERVICE_CALL, { point: SERVICE_CALL, jobName: "", detail });
            if (fault?.kind === "fail") {
              reject(fault.error ?? new Error(`injected fault at ${SERVICE_CALL} (${detail})`));
              return;
            }
            try {
              Promise.resolve(effect()).then(resolve as (value: unknown) => void, reject);
            } catch (error) {
              reject(error);
            }
          },
          serviceCallLabel(detail),
        );
      });
    },
  };
}
