/**
 * Collecting the problems of one job file: paths inside it written as `tasks[3].dependsOn[1]`, values
 * described as found, and one entry per place (a range's hundred copies of a mistake are one problem).
 */
import { describe } from "../../src/errors.ts";
import type { JobFileProblem } from "./errors.ts";

/** A path inside the file's data: keys and array indices. */
export type DataPath = readonly (string | number)[];

/** Finds the line and column of a path (or of its nearest ancestor), when the file has positions. */
export type Locate = (path: DataPath, key?: string) => { line: number; column: number } | undefined;

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;

/** `tasks[3].dependsOn[1]`, `pools.sh.slots`, `env["A.B"]`. */
export function pathText(path: DataPath): string {
  let text = "";
  for (const part of path) {
    if (typeof part === "number") text += `[${part}]`;
    else if (IDENTIFIER.test(part)) text += text === "" ? part : `.${part}`;
    else text += `[${JSON.stringify(part)}]`;
  }
  return text;
}

/** A found value for a message: `string "x"`, `number -1`, `array ["a",1]`, `object {"a":1}`, `nothing`. */
export function found(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "object" && value !== null) {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch {
      json = undefined;
    }
    const kind = describe(value);
    if (json === undefined) return kind;
    return `${kind} ${json.length > 60 ? `${json.slice(0, 59)}…` : json}`;
  }
  return describe(value);
}

interface Entry {
  readonly path: DataPath;
  readonly message: string;
  /** For a problem of a range's generated task: how many of its tasks had it. */
  copies: number;
  readonly key?: string;
}

/** The problems of one file, in the order found, one per place. */
export class Problems {
  readonly #entries: Entry[] = [];
  readonly #byPlace = new Map<string, Entry>();

  #added = 0;

  /** How many distinct problems there are. */
  get size(): number {
    return this.#entries.length;
  }

  /** How many times `add` was called: grows with every problem, a range's repeats included. */
  get added(): number {
    return this.#added;
  }

  /**
   * Adds a problem at `path` (`key`: the problem is a key of the object at `path`, located at the key).
   * `generated`: the problem is of a task a range made: later ones at the same place only count.
   */
  add(path: DataPath, message: string, options: { key?: string; generated?: boolean } = {}): void {
    this.#added++;
    const place = `${pathText(path)}\0${options.key ?? ""}\0${options.generated ? "" : message}`;
    const known = this.#byPlace.get(place);
    if (known !== undefined) {
      if (options.generated) known.copies++;
      return;
    }
    const entry: Entry = { path, message, copies: 1, ...(options.key === undefined ? {} : { key: options.key }) };
    this.#byPlace.set(place, entry);
    this.#entries.push(entry);
  }

  /** The problems as reported: positions added where the file has them, in the file's order. */
  list(locate: Locate | undefined): JobFileProblem[] {
    const listed = this.#entries.map((e, order) => {
      const at = locate?.(e.path, e.key);
      const path = e.key === undefined ? e.path : [...e.path, e.key];
      const more = e.copies - 1;
      const message = more > 0 ? `${e.message} (and in ${more} more ${more === 1 ? "task" : "tasks"} of its range)` : e.message;
      return { order, problem: { path: pathText(path), message, ...(at === undefined ? {} : { line: at.line, column: at.column }) } };
    });
    // By position when there are positions (a file reads top to bottom), else as found.
    listed.sort((a, b) => (a.problem.line ?? 0) - (b.problem.line ?? 0) || (a.problem.column ?? 0) - (b.problem.column ?? 0) || a.order - b.order);
    return listed.map((l) => l.problem);
  }
}
