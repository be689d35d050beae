/**
 * A run's side of its journal (journal.ts has the contract): at the start, the records an earlier run
 * left are read, checked to belong to this job, and the tasks that succeeded are handed back to be
 * restored; during the run, each task's final state is appended, batched (one `append` in flight at a
 * time, everything that arrives meanwhile goes in the next: group commit); at the end, the last batch
 * is waited for and the journal closed.
 */
import { FlotillaError, isFlotillaError, messageOf } from "./errors.ts";
import { JOURNAL_FORMAT, type Journal, type JournalJobRecord, type JournalRecord, type JournalTaskRecord, type JournalTaskShape } from "./journal.ts";
import { errorJson } from "./result-view.ts";
import type { Runtime, TimerHandle } from "./runtime.ts";
import type { TaskTable } from "./task-table.ts";
import { STATE_NAMES, SUCCEEDED } from "./task-state.ts";

/** A task an earlier run finished: restored instead of run. */
export interface RestoredTask {
  readonly output: unknown;
  readonly attempts: number;
}

/** At most this many differences are named when a journal belongs to another job. */
const DIFFERENCES_SHOWN = 5;

export class RunJournal {
  readonly journal: Journal;
  /** Tasks restored from the journal (the executor adds them as it restores them; not journaled again). */
  readonly restored = new Set<number>();
  readonly #t: TaskTable;
  readonly #failed: (error: FlotillaError) => void;
  #pending: JournalRecord[] = [];
  #writing: Promise<void> | undefined = undefined;
  #opened = false;
  #opening: Promise<unknown> | undefined = undefined;
  /** The first failure (set once); nothing is appended after it. */
  error: FlotillaError | undefined = undefined;

  /** `failed` is told once, at the first failure to open or append. */
  constructor(journal: Journal, table: TaskTable, failed: (error: FlotillaError) => void) {
    this.journal = journal;
    this.#t = table;
    this.#failed = failed;
  }

  /**
   * Opens the journal and checks it belongs to this job; returns the tasks to restore by index (those
   * recorded as succeeded with a resumable output, the last record of a task winning). Resolves
   * undefined when the journal failed (the run was told).
   */
  async open(): Promise<Map<number, RestoredTask> | undefined> {
    // The job's own tasks: one added to the run with addTask is not part of its identity.
    const shapes = shapesOf(this.#t);
    // (A journal is user code: an open() that throws at once, or answers a thenable, settles here too.)
    const opening = new Promise<readonly JournalRecord[]>((resolve) => resolve(this.journal.open()));
    this.#opening = opening.catch(() => {});
    let records: readonly JournalRecord[];
    try {
      records = await opening;
      if (!Array.isArray(records)) throw new TypeError(`open() resolved ${typeof records}, not an array of records`);
    } catch (error) {
      this.#fail(error, "could not be opened");
      return undefined;
    }
    this.#opened = true;
    let restore: Map<number, RestoredTask>;
    if (records.length === 0) {
      restore = new Map();
      this.#pending.unshift({ type: "job", format: JOURNAL_FORMAT, job: this.#t.graph.name, tasks: shapes });
    } else {
      const problem = mismatch(records[0], this.#t.graph.name, shapes);
      if (problem !== undefined) {
        this.#fail(new FlotillaError("E_JOURNAL_MISMATCH", `journal "${this.journal.name}" ${problem}`), "");
        return undefined;
      }
      restore = restorable(this.#t, records);
    }
    return restore;
  }

  /** The run began for good: `restored` tasks were restored (the executor restores them once `open` resolved). */
  began(at: number): void {
    this.#pending.push({ type: "run", at, restored: this.restored.size });
    this.#flushSoon();
  }

  /**
   * Task i reached its final state (restored tasks are already in the journal). A task that ends
   * before the journal was read (cancelled, or skipped, while it opens) never ran in this run: it is
   * not recorded, lest its "cancelled" come after an earlier run's "succeeded" and lose that work.
   */
  ended(i: number, at: number): void {
    if (this.error !== undefined || !this.#opened || this.restored.has(i)) return;
    const t = this.#t;
    const state = t.state[i]!;
    const status = STATE_NAMES[state] as JournalTaskRecord["status"];
    const record: { -readonly [K in keyof JournalTaskRecord]: JournalTaskRecord[K] } = {
      type: "task",
      id: t.graph.ids[i]!,
      status,
      attempts: t.attempts[i]!,
      at,
    };
    if (state === SUCCEEDED) {
      const output = t.outputs[i];
      if (output !== undefined) {
        // Only an output JSON gives back as it was is restored; any other (a Date, a Map, NaN, a class
        // instance) would reach the dependents of a resumed run changed: the task runs again instead.
        const text = isPlainJson(output) ? jsonOf(output) : undefined;
        if (text === undefined) record.resumable = false;
        else record.output = text;
      }
    } else {
      record.error = errorRecord(t.errors[i]);
    }
    this.#pending.push(record);
    this.#flushSoon();
  }

  /**
   * Waits for every record to be appended, then closes the journal; never rejects. A journal that does
   * not answer (an open, append or close still pending) within `timeoutMs` fails the run with
   * E_JOURNAL_FAILED, and the run ends anyway: nothing in a run waits on a plug-in without a bound.
   */
  async close(runtime: Runtime, timeoutMs: number): Promise<void> {
    let timer: TimerHandle | undefined;
    const late = new Promise<"late">((resolve) => (timer = runtime.setTimer(timeoutMs, () => resolve("late"))));
    const outcome = await Promise.race([this.#drainAndClose().then(() => "done" as const), late]);
    runtime.clearTimer(timer!);
    if (outcome === "late") this.#fail(new Error(`it did not answer within ${timeoutMs} ms (stopTimeoutMs) at the end of the run`), "was given up");
  }

  async #drainAndClose(): Promise<void> {
    if (this.#opening !== undefined) await this.#opening;
    while (this.#writing !== undefined) await this.#writing;
    if (this.#opened && this.error === undefined && this.#pending.length > 0) {
      this.#write();
      while (this.#writing !== undefined) await this.#writing;
    }
    if (!this.#opened) return;
    try {
      await this.journal.close();
    } catch (error) {
      this.#fail(error, "could not be closed");
    }
  }

  #flushSoon(): void {
    if (this.#writing !== undefined || !this.#opened) return;
    // A microtask later: tasks that end in the same step go in one append.
    this.#writing = Promise.resolve().then(() => this.#write());
  }

  /** Appends everything pending; when more arrived meanwhile, appends again. */
  #write(): Promise<void> {
    const batch = this.#pending;
    if (batch.length === 0 || this.error !== undefined) {
      this.#writing = undefined;
      return Promise.resolve();
    }
    this.#pending = [];
    let appended: Promise<void>;
    try {
      appended = Promise.resolve(this.journal.append(batch));
    } catch (error) {
      appended = Promise.reject(error);
    }
    const writing = appended.then(
      () => {
        this.#writing = undefined;
        if (this.#pending.length > 0) this.#flushSoon();
      },
      (error: unknown) => {
        this.#writing = undefined;
        this.#fail(error, "could not be written");
      },
    );
    this.#writing = writing;
    return writing;
  }

  #fail(error: unknown, what: string): void {
    if (this.error !== undefined) return;
    const failure =
      isFlotillaError(error) && /^E_JOURNAL_/.test(error.code)
        ? error
        : new FlotillaError("E_JOURNAL_FAILED", `journal "${this.journal.name}" ${what}: ${messageOf(error)}`, { cause: error });
    this.error = failure;
    this.#failed(failure);
  }
}

/** The shape of every task of the job (not those added to the run with addTask), as the journal's first record keeps it. */
function shapesOf(t: TaskTable): JournalTaskShape[] {
  const { ids, bodies } = t.graph;
  const shapes: JournalTaskShape[] = [];
  for (let i = 0; i < t.planned; i++) {
    shapes.push({ id: ids[i]!, dependsOn: Array.from(t.depsOf(i), (d) => ids[d]!), body: bodyShape(bodies[i]) });
  }
  return shapes;
}

/**
 * "function" for an in-process body (its code cannot be compared); for a spec, its kind and a hash of
 * each of its fields, one level into objects (`command argv=… options.cwd=… options.env=…`): the spec
 * itself may carry secrets in its env, which have no place in a journal file, and the hashes still say
 * which field changed.
 */
function bodyShape(body: unknown): string {
  if (typeof body === "function") return "function";
  if (typeof body !== "object" || body === null) return `${typeof body} ${hashOf(jsonOf(body) ?? "")}`;
  const spec = body as Record<string, unknown>;
  const parts = [String(spec.kind)];
  for (const key of Object.keys(spec).sort()) {
    if (key === "kind") continue;
    const value = spec[key];
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      for (const inner of Object.keys(value).sort()) parts.push(`${key}.${inner}=${hashOf(jsonOf((value as Record<string, unknown>)[inner]) ?? "")}`);
    } else parts.push(`${key}=${hashOf(jsonOf(value) ?? "")}`);
  }
  return parts.join(" ");
}

/** What differs between two body shapes, in words: "its argv", "its options.env", "its kind (command here, …)". */
function bodyDifference(now: string, then: string): string {
  const [kindNow, ...fieldsNow] = now.split(" ");
  const [kindThen, ...fieldsThen] = String(then).split(" ");
  if (kindNow !== kindThen) return `its kind (${kindNow} here, ${kindThen} in the journal)`;
  const hashes = (fields: string[]) => new Map(fields.map((f) => [f.slice(0, f.lastIndexOf("=")), f.slice(f.lastIndexOf("=") + 1)]));
  const a = hashes(fieldsNow);
  const b = hashes(fieldsThen);
  const changed = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
  return changed.length === 0 ? "its body" : `its ${changed.join(", ")}`;
}

/** A 53-bit FNV-1a-style hash of a string, in hex: enough to tell two specs apart. */
function hashOf(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return ((h2 >>> 11) * 0x100000000 + (h1 >>> 0)).toString(16);
}

/** The most levels of nesting an output may have to be journaled (deeper ones run again on resume). */
const MAX_OUTPUT_DEPTH = 100;

/**
 * Whether JSON gives `value` back exactly: null, booleans, strings, finite numbers, and arrays and plain
 * objects of those (no `undefined` inside, no `toJSON`, no cycle, at most MAX_OUTPUT_DEPTH deep).
 */
function isPlainJson(value: unknown, depth = 0): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value) && !Object.is(value, -0);
  if (typeof value !== "object" || depth >= MAX_OUTPUT_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let k = 0; k < value.length; k++) if (!isPlainJson(value[k], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  if ("toJSON" in value || Object.getOwnPropertySymbols(value).length > 0) return false;
  for (const key of Object.keys(value)) if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
  return true;
}

/** Why a task did not succeed, as strings only (an error's `code` may be anything: JSON must write it). */
function errorRecord(error: unknown): JournalTaskRecord["error"] {
  const json = errorJson(error);
  if (typeof json === "object" && json !== null && typeof (json as { message?: unknown }).message === "string") {
    const { name, code, message } = json as { name?: unknown; code?: unknown; message: string };
    const record = { name: typeof name === "string" ? name : "Error", message };
    return typeof code === "string" ? { ...record, code } : record;
  }
  return { name: "Error", message: messageOf(error) };
}

/** JSON text of a value, or undefined when JSON cannot write it (a function, a BigInt, a cycle). */
function jsonOf(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** What makes the journal's first record another job's, or undefined when it is this job's. */
function mismatch(first: JournalRecord | undefined, job: string, shapes: readonly JournalTaskShape[]): string | undefined {
  if (first === undefined || first === null || typeof first !== "object" || first.type !== "job") {
    return "does not begin with a job record: it was not written by flotilla, or is damaged";
  }
  const head = first as JournalJobRecord;
  if (head.format !== JOURNAL_FORMAT) return `was written in journal format ${String(head.format)}; this version of flotilla reads format ${JOURNAL_FORMAT}`;
  const differences: string[] = [];
  if (head.job !== job) differences.push(`the journal's job is "${head.job}", this one is "${job}"`);
  const recorded = new Map((Array.isArray(head.tasks) ? head.tasks : []).map((s) => [s.id, s]));
  const current = new Set<string>();
  for (const shape of shapes) {
    current.add(shape.id);
    const old = recorded.get(shape.id);
    if (old === undefined) differences.push(`task "${shape.id}" is not in the journal`);
    else if (!sameIds(old.dependsOn, shape.dependsOn)) {
      differences.push(`task "${shape.id}" depends on [${shape.dependsOn.join(", ")}], in the journal on [${old.dependsOn.join(", ")}]`);
    } else if (old.body !== shape.body) differences.push(`task "${shape.id}" changed ${bodyDifference(shape.body, old.body)}`);
  }
  for (const id of recorded.keys()) if (!current.has(id)) differences.push(`task "${id}" is in the journal but not in this job`);
  if (differences.length === 0) return undefined;
  const more = differences.length > DIFFERENCES_SHOWN ? `; and ${differences.length - DIFFERENCES_SHOWN} more` : "";
  return `belongs to another job: ${differences.slice(0, DIFFERENCES_SHOWN).join("; ")}${more}`;
}

/** Whether two lists of dependency ids name the same tasks (in any order). */
function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (!Array.isArray(a) || a.length !== b.length) return false;
  const sorted = (ids: readonly string[]) => JSON.stringify([...ids].sort());
  return sorted(a) === sorted(b);
}

/** The tasks whose last record says they succeeded with an output that can be restored. */
function restorable(t: TaskTable, records: readonly JournalRecord[]): Map<number, RestoredTask> {
  const last = new Map<string, JournalTaskRecord>();
  for (const r of records) if (r !== null && typeof r === "object" && r.type === "task") last.set(r.id, r);
  const restore = new Map<number, RestoredTask>();
  for (const [id, r] of last) {
    if (r.status !== "succeeded" || r.resumable === false) continue;
    const i = t.indexOf(id);
    if (i === undefined || i >= t.planned) continue; // (tasks added with addTask are journaled, not restored)
    try {
      restore.set(i, { output: r.output === undefined ? undefined : JSON.parse(r.output), attempts: r.attempts });
    } catch {
      // (An output the journal kept damaged: the task runs again.)
    }
  }
  // A task is restored only with all its dependencies: one whose dependency runs again (its output was
  // not resumable, or it failed later) runs again too, on the new output.
  for (let changed = true; changed; ) {
    changed = false;
    for (const i of restore.keys()) {
      const deps = t.depsOf(i);
      for (let k = 0; k < deps.length; k++) {
        if (!restore.has(deps[k]!)) {
          restore.delete(i);
          changed = true;
          break;
        }
      }
    }
  }
  return restore;
}
