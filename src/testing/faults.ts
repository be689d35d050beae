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
      if (times !== undefined && !(times === Infinity || (Number.isInteger(times) && times >= 0)))
        throw invalidOption(where, "times", "an integer >= 0 or Infinity", times);
    });
    rules.set(point, list as FaultRule[]);
  }
  return rules;
}

/** A plan by rule index: each distinct rule object once (`rules`), each point's rules as indices. */
interface CompiledPlan {
  readonly rules: readonly FaultRule[];
  readonly byPoint: ReadonlyMap<string, readonly number[]>;
  /** Every rule occurrence, in plan order (a rule listed under two points occurs twice). */
  readonly occurrences: readonly number[];
}

/** Plans compiled once per exploration (every schedule gets the same checked plan). */
const compiled = new WeakMap<Map<string, FaultRule[]>, CompiledPlan>();

function compile(plan: Map<string, FaultRule[]>): CompiledPlan {
  let c = compiled.get(plan);
  if (c !== undefined) return c;
  const index = new Map<FaultRule, number>();
  const rules: FaultRule[] = [];
  const byPoint = new Map<string, number[]>();
  const occurrences: number[] = [];
  for (const [point, list] of plan) {
    const indices: number[] = [];
    for (const rule of list) {
      let i = index.get(rule);
      if (i === undefined) index.set(rule, (i = rules.push(rule) - 1));
      indices.push(i);
      occurrences.push(i);
    }
    byPoint.set(point, indices);
  }
  compiled.set(plan, (c = { rules, byPoint, occurrences }));
  return c;
}

/**
 * The fault decisions of one schedule, drawn from the schedule's own random source. Rules are
 * identified by object (one listed under two points is one rule: one switch, one `times` budget).
 */
export function faultDecider(
  plan: Map<string, FaultRule[]>,
  random: () => number,
  stopAfterStep: number,
): ((point: FaultPoint, context: FaultContext, step: number) => FaultAction | undefined) | undefined {
  if (plan.size === 0) return undefined;
  const { rules, byPoint, occurrences } = compile(plan);
  const on = new Uint8Array(rules.length);
  const fired = new Float64Array(rules.length);
  // Each occurrence draws in plan order, the last draw for a rule deciding (as a map set per occurrence did).
  for (const i of occurrences) {
    const rule = rules[i]!;
    on[i] = rule.probability === undefined || rule.probability >= 1 || random() < 0.5 ? 1 : 0;
  }
  return (point, context, step) => {
    if (step >= stopAfterStep) return undefined;
    const list = byPoint.get(point);
    if (list === undefined) return undefined;
    for (let k = 0; k < list.length; k++) {
      const i = list[k]!;
      if (on[i] === 0) continue;
      const rule = rules[i]!;
      if (fired[i]! >= (rule.times ?? Infinity)) continue;
      if (rule.when !== undefined && !rule.when({ ...context, step })) continue;
      if (rule.probability !== undefined && random() >= rule.probability) continue;
      fired[i]!++;
      return rule.action;
    }
    return undefined;
  };
}
