/**
 * `--json`: every run event as one line of JSON on stdout, and nothing else there (the command's own
 * messages go to stderr), so another program can read the run as it happens.
 */
import { RUN_EVENT_NAMES, type RunEvent } from "../../src/events.ts";
import type { RunHandle } from "../../src/run.ts";
import { describe, messageOf } from "../../src/errors.ts";
import type { Output, Progress } from "./progress.ts";

/** An error as `{ name, code, message }` (code only when it has one), like a run result's toJSON. */
function errorJson(error: Error): Record<string, unknown> {
  const code = (error as { code?: unknown }).code;
  return code === undefined ? { name: error.name, message: messageOf(error) } : { name: error.name, code, message: messageOf(error) };
}

/** Errors as `{ name, code, message }`, big integers as strings: what JSON cannot write plainly. */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return errorJson(value);
  if (typeof value === "bigint") return value.toString();
  return value;
}

/**
 * One event as one line of JSON. A value JSON cannot write (a task output that refers to itself, or
 * whose toJSON throws) is replaced by its description, so the event still gets its line.
 */
export function eventJson(event: RunEvent): string {
  try {
    return JSON.stringify(event, replacer);
  } catch {
    // Write the event field by field, each field that fails as what it is.
    const fields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(event)) {
      try {
        JSON.stringify(value, replacer);
        fields[key] = value;
      } catch (error) {
        fields[key] = `(${describe(value)} that JSON cannot write: ${messageOf(error)})`;
      }
    }
    return JSON.stringify(fields, replacer);
  }
}

export class JsonProgress implements Progress {
  readonly #err: Output;

  constructor(handle: RunHandle<any>, options: { out: Output; err: Output; quiet: boolean }) {
    this.#err = options.err;
    const write = (event: RunEvent): void => {
      if (event.type === "task:output" && options.quiet) return;
      options.out.write(`${eventJson(event)}\n`);
    };
    for (const name of RUN_EVENT_NAMES) handle.on(name, write);
  }

  notice(line: string): void {
    this.#err.write(`${line}\n`);
  }

  finish(): void {}
}
