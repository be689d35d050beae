/**
 * Fault plans: which fault points fire, when, and with what. A rule with a probability below 1 is
 * switched on or off once per schedule (half the schedules each, as FoundationDB's BUGGIFY does) and
 * then fires with its probability where it is on, which finds more than one flat probability
 * everywhere. A rule with a `when` predicate and no probability fires exactly where it holds.
 */
import { FlotillaError, describe } from "../errors.ts";
import { checkKnownKeys, closest, invalidOption, unknownName } from "../validation.ts";
import type { FaultAction, FaultContext, FaultPoint } from "../runtime.ts";
import { declaredFaultPoints } from "./vocabulary.ts";

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
 * Rules by fault point: core's (`CoreFaultPoint`), the kit's `service.call`, or one an extension
 * declared with `declareFaultPoints` (a near miss of any of them is refused as a typo).
 *
 * @example { "task.attempt": { probability: 0.05, action: { kind: "fail" } },
 *            "job.cancel": { when: (c) => c.step === 12, action: { kind: "cancel" } } }
 */
export type FaultPlan = { readonly [point in FaultPoint]?: FaultRule | readonly FaultRule[] };

export const ACTION_KINDS = ["fail", "timeout", "cancel", "delay"];
const RULE_FIELDS = ["probability", "when", "action", "times"];

/**
 * Checks a plan once, up front, with messages naming the point and the field. A point must not be a
 * near miss of a declared one (core's, the kit's `service.call`, and those of any extension declared
 * by now with `declareFaultPoints`): that is a typo. One far from all of them is taken as a point an
 * extension consults without declaring it.
 */
export function checkFaultPlan(plan: unknown): Map<string, FaultRule[]> {
  const rules = new Map<string, FaultRule[]>();
  if (plan === undefined) return rules;
  if (typeof plan !== "object" || plan === null || Array.isArray(plan)) throw invalidOption("explore", "faults", "an object of rules by fault point", plan);
  const declared = declaredFaultPoints();
  for (const [point, value] of Object.entries(plan)) {
    if (!declared.includes(point) && closest(point, declared) !== undefined) throw unknownName("explore", point, declared, "fault point");
    const list = (Array.isArray(value) ? value : [value]) as unknown[];
    list.forEach((rule, i) => {
      const where = `explore: faults["${point}"]${Array.isArray(value) ? `[${i}]` : ""}`;
      if (typeof rule !== "object" || rule === null || Array.isArray(rule)) {
        throw new FlotillaError("E_INVALID_OPTION", `${where} must be a rule { probability?, when?, action, times? }, received ${describe(rule)}`);
      }
      checkKnownKeys(where, rule, RULE_FIELDS);
      const { probability, when, action, times } = rule as FaultRule;
      if (probability !== undefined && !(typeof probability === "number" && probability >= 0 && probability <= 1)) {
        throw invalidOption(where, "probability", "a number from 0 to 1", probability);
      }
      if (when !== undefined && typeof when !== "function") throw invalidOption(where, "when", "a function (site) => boolean", when);
      if (typeof action !== "object" || action === null || !ACTION_KINDS.includes((action as FaultAction).kind)) {
        throw invalidOption(where, "action", `{ kind: "fail" | "timeout" | "cancel" | "delay" }`, action);
      }
      if (action.kind === "delay" && !(typeof action.ms === "number" && action.ms >= 0 && Number.isFinite(action.ms))) {
        throw invalidOption(where, "action.ms", "a finite number of milliseconds >= 0", action.ms);
      }
      if (times !== undefined && !(times === Infinity || (Number.isInteger(times) && times >= 0))) throw invalidOption(where, "times", "an integer >= 0 or Infinity", times);
    });
    rules.set(point, list as FaultRule[]);
  }
  return rules;
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
