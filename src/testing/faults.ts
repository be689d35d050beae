/**
 * Fault plans: which fault points fire, when, and with what. A rule with a probability below 1 is
 * switched on or off once per schedule (half the schedules each, as FoundationDB's BUGGIFY does) and
 * then fires with its probability where it is on, which finds more than one flat probability
 * everywhere. A rule with a `when` predicate and no probability fires exactly where it holds.
 */
import { FlotillaError, describe } from "../errors.ts";
import { closest } from "../validation.ts";
import type { FaultAction, FaultContext, FaultPoint } from "../runtime.ts";

/** Where a rule is consulted: the fault point's context plus the schedule's current step. */
export type FaultSite = FaultContext & { readonly step: number };

export interface FaultRule {
  /** Chance to fire each time the point is reached, where the rule is on. @default 1. Bounds: 0..1. */
  readonly probability?: number;
  /** Fires only where this holds, e.g. `(c) => c.taskId === "load" && c.attempt === 1`. */
  readonly when?: (site: FaultSite) => boolean;
  /** What to do: `{ kind: "fail", error? }`, `{ kind: "timeout" }`, `{ kind: "cancel", reason? }` or `{ kind: "delay", ms }`. */
  readonly action: FaultAction;
  /** At most this many firings per schedule. @default Infinity */
  readonly times?: number;
}

/**
 * Rules by fault point.
 *
 * @example { "task.attempt": { probability: 0.05, action: { kind: "fail" } },
 *            "job.cancel": { when: (c) => c.step === 12, action: { kind: "cancel" } } }
 */
export type FaultPlan = { readonly [point in FaultPoint]?: FaultRule | readonly FaultRule[] };

export const ACTION_KINDS = ["fail", "timeout", "cancel", "delay"];
const KNOWN_POINTS = ["task.dispatch", "task.attempt", "task.complete", "job.cancel", "node.start", "node.run", "node.lost", "provider.call", "service.call"];

/** Checks a plan once, up front, with messages naming the point and the field. */
export function checkFaultPlan(plan: unknown): Map<string, FaultRule[]> {
  const rules = new Map<string, FaultRule[]>();
  if (plan === undefined) return rules;
  if (typeof plan !== "object" || plan === null) throw bad("faults", "an object of rules by fault point", plan);
  for (const [point, value] of Object.entries(plan)) {
    // Providers may define points of their own; a near miss of a known one is a typo, not a new point.
    const near = KNOWN_POINTS.includes(point) ? undefined : closest(point, KNOWN_POINTS);
    if (near !== undefined) throw new FlotillaError("E_INVALID_OPTION", `explore: unknown fault point "${point}" (did you mean "${near}"?); known: ${KNOWN_POINTS.join(", ")}`);
    const list = (Array.isArray(value) ? value : [value]) as unknown[];
    list.forEach((rule, i) => {
      const where = `faults["${point}"]${Array.isArray(value) ? `[${i}]` : ""}`;
      if (typeof rule !== "object" || rule === null) throw bad(where, "a rule { probability?, when?, action, times? }", rule);
      const { probability, when, action, times } = rule as FaultRule;
      if (probability !== undefined && !(typeof probability === "number" && probability >= 0 && probability <= 1)) {
        throw bad(`${where}.probability`, "a number from 0 to 1", probability);
      }
      if (when !== undefined && typeof when !== "function") throw bad(`${where}.when`, "a function (site) => boolean", when);
      if (typeof action !== "object" || action === null || !ACTION_KINDS.includes((action as FaultAction).kind)) {
        throw bad(`${where}.action`, `{ kind: "fail" | "timeout" | "cancel" | "delay" }`, action);
      }
      if (action.kind === "delay" && !(typeof action.ms === "number" && action.ms >= 0 && Number.isFinite(action.ms))) {
        throw bad(`${where}.action.ms`, "a finite number of milliseconds >= 0", action.ms);
      }
      if (times !== undefined && !(times === Infinity || (Number.isInteger(times) && times >= 0))) throw bad(`${where}.times`, "an integer >= 0 or Infinity", times);
    });
    rules.set(point, list as FaultRule[]);
  }
  return rules;
}

function bad(option: string, expected: string, received: unknown): FlotillaError {
  return new FlotillaError("E_INVALID_OPTION", `explore: option ${option} must be ${expected}, received ${describe(received)}`);
}

/** The fault decisions of one schedule, drawn from the schedule's own random source. */
export function faultDecider(
  rules: Map<string, FaultRule[]>,
  random: () => number,
  stopAfterStep: number,
): ((point: FaultPoint, context: FaultContext, step: number) => FaultAction | undefined) | undefined {
  if (rules.size === 0) return undefined;
  const on = new Map<FaultRule, boolean>();
  const fired = new Map<FaultRule, number>();
  for (const list of rules.values()) {
    for (const rule of list) on.set(rule, rule.probability === undefined || rule.probability >= 1 || random() < 0.5);
  }
  return (point, context, step) => {
    if (step >= stopAfterStep) return undefined;
    const list = rules.get(point);
    if (list === undefined) return undefined;
    for (const rule of list) {
      if (!on.get(rule)) continue;
      if ((fired.get(rule) ?? 0) >= (rule.times ?? Infinity)) continue;
      if (rule.when !== undefined && !rule.when({ ...context, step })) continue;
      if (rule.probability !== undefined && random() >= rule.probability) continue;
      fired.set(rule, (fired.get(rule) ?? 0) + 1);
      return rule.action;
    }
    return undefined;
  };
}
