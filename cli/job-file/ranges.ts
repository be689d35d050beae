/**
 * Generated tasks and ranges of ids. A task with `range: { from, to }` stands for one task per integer
 * i from `from` to `to`, with `${i}` replaced by i in every string of it (its id must have one); in
 * `worker.input` a string that is exactly "${i}" becomes the number. A `dependsOn` entry of the form
 * `prefix[a..b]suffix` names the tasks prefix<a>suffix … prefix<b>suffix, every one of which must exist.
 */
import { closest } from "../../src/validation.ts";
import type { DataPath, Problems } from "./problems.ts";
import { MAX_RANGE, type TaskDecl } from "./schema.ts";

/** One task of the job as the file declares it: a plain task, or one of a range's. */
export interface ExpandedTask {
  /** Its index in the file's `tasks` (a range's tasks share their template's). */
  readonly index: number;
  readonly decl: TaskDecl;
  /** Whether a range made it (its problems are reported once per template). */
  readonly generated: boolean;
  /** False when keys with problems were left out of `decl` (it is only checked, never built). */
  readonly complete: boolean;
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder of a range, written as in the job file
const VARIABLE = "${i}";

/** The tasks one declared task stands for: itself, or one per value of its range. */
export function expandTask(decl: TaskDecl, index: number, complete: boolean, problems: Problems): ExpandedTask[] {
  const at: DataPath = ["tasks", index];
  if (decl.range === undefined) {
    if (decl.id.includes(VARIABLE))
      problems.add([...at, "id"], `expected a task id, found "${decl.id}": \${i} in an id needs a range: { from, to } on the task`);
    return [{ index, decl, generated: false, complete }];
  }
  const { from, to } = decl.range;
  let ok = true;
  if (to < from) {
    problems.add([...at, "range", "to"], `expected an integer >= from (${from}), found number ${to}`);
    ok = false;
  } else if (to - from + 1 > MAX_RANGE) {
    problems.add([...at, "range"], `expected at most ${MAX_RANGE} tasks in a range, found ${to - from + 1} (from ${from} to ${to})`);
    ok = false;
  }
  if (!decl.id.includes(VARIABLE)) {
    problems.add([...at, "id"], `expected an id with \${i} in it (a range makes one task per i), found "${decl.id}"`);
    ok = false;
  }
  if (!ok) return [];
  const { range: _range, ...template } = decl;
  const tasks: ExpandedTask[] = [];
  for (let i = from; i <= to; i++) tasks.push({ index, decl: substitute(template, String(i), i) as TaskDecl, generated: true, complete });
  return tasks;
}

/** `value` with every "${i}" replaced; a whole "${i}" inside `worker.input` becomes the number. */
function substitute(value: unknown, text: string, i: number, inInput = false): unknown {
  if (typeof value === "string") {
    if (inInput && value === VARIABLE) return i;
    return value.includes(VARIABLE) ? value.replaceAll(VARIABLE, text) : value;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, text, i, inInput));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = substitute(v, text, i, inInput || key === "input");
    return out;
  }
  return value;
}

const RANGE_REF = /^(.*)\[(-?\d+)\.\.(-?\d+)\](.*)$/;

/**
 * The ids a `dependsOn` entry names: the id itself, or each id of a range reference. Adds a problem
 * (and returns the ids that exist) when it names tasks the job does not have.
 */
export function dependencyIds(entry: string, ids: ReadonlySet<string>, at: DataPath, problems: Problems, generated: boolean): string[] {
  if (ids.has(entry)) return [entry];
  const ref = RANGE_REF.exec(entry);
  if (ref === null) {
    const hint = closest(entry, [...candidates(entry, ids)]);
    problems.add(at, `expected the id of a task of this job, found "${entry}"${hint ? ` (did you mean "${hint}"?)` : ""}`, { generated });
    return [];
  }
  const [, prefix, a, b, suffix] = ref as unknown as [string, string, string, string, string];
  const from = Number(a);
  const to = Number(b);
  if (to < from || to - from + 1 > MAX_RANGE) {
    problems.add(at, `expected a range of ids prefix[from..to] with from <= to, found "${entry}"`, { generated });
    return [];
  }
  const named: string[] = [];
  const missing: string[] = [];
  for (let n = from; n <= to; n++) {
    const id = `${prefix}${n}${suffix}`;
    (ids.has(id) ? named : missing).push(id);
  }
  if (missing.length > 0) {
    const shown = missing.length <= 3 ? missing.join(", ") : `${missing.slice(0, 3).join(", ")} … (${missing.length} in all)`;
    problems.add(at, `expected a range of ids of this job, found "${entry}", which names tasks the job does not have: ${shown}`, { generated });
  }
  return named;
}

/** Ids worth suggesting: closest() on a million ids is slow, so only those of about the same length. */
function candidates(entry: string, ids: ReadonlySet<string>): Iterable<string> {
  if (ids.size <= 10_000) return ids;
  return [...ids].filter((id) => Math.abs(id.length - entry.length) <= 3).slice(0, 10_000);
}
