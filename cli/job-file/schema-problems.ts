/**
 * Checking a part of a job file against its zod schema and turning every issue into a problem that
 * names the path, what was expected (the schema's own text) and what was found, with "did you mean"
 * for an unknown key or value a typo away from a known one.
 */
import type { z } from "zod";
import { closest } from "../../src/validation.ts";
import { type DataPath, type Problems, found } from "./problems.ts";

type Issue = z.core.$ZodIssue;
type Schema = z.core.$ZodType;

/** Checks `data` (found at `at` in the file); every issue becomes a problem. Returns the parsed value, or undefined. */
export function checkPart<S extends Schema>(schema: S, data: unknown, at: DataPath, problems: Problems): z.output<S> | undefined {
  const result = (schema as unknown as z.ZodType).safeParse(data);
  if (result.success) return result.data as z.output<S>;
  for (const issue of result.error.issues) report(issue, [], schema, data, at, problems);
  return undefined;
}

/**
 * Checks an object as `checkPart` does; when it has problems, also returns what is left of it without
 * the keys that have them (`complete: false`), so the checks of the whole file still see the rest of
 * it: a task with a bad `retries` still has its dependencies checked. Undefined when nothing is left.
 */
export function checkObjectPart<S extends Schema>(
  schema: S,
  data: unknown,
  at: DataPath,
  problems: Problems,
): { value: z.output<S>; complete: boolean } | undefined {
  const result = (schema as unknown as z.ZodType).safeParse(data);
  if (result.success) return { value: result.data as z.output<S>, complete: true };
  for (const issue of result.error.issues) report(issue, [], schema, data, at, problems);
  if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
  const bad = new Set(
    result.error.issues.flatMap((issue) => (issue.path.length > 0 ? [String(issue.path[0])] : issue.code === "unrecognized_keys" ? issue.keys : [])),
  );
  const rest = (schema as unknown as z.ZodType).safeParse(Object.fromEntries(Object.entries(data).filter(([key]) => !bad.has(key))));
  return rest.success ? { value: rest.data as z.output<S>, complete: false } : undefined;
}

/** One issue, whose path is relative to `base` inside the value `data` that `schema` checked. */
function report(issue: Issue, base: DataPath, schema: Schema, data: unknown, at: DataPath, problems: Problems): void {
  const rel = [...base, ...(issue.path as (string | number)[])];
  const path = [...at, ...rel];
  const value = valueAt(data, rel);
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = keysOf(schemaAt(schema, rel));
      for (const key of issue.keys) {
        const hint = closest(key, known);
        problems.add(path, `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ""}; expected one of: ${known.join(", ")}`, { key });
      }
      return;
    }
    case "invalid_union": {
      // The branch whose type the value has (its issues are deeper in) says what is wrong inside it.
      const options = (schemaAt(schema, rel)?._zod.def as { options?: Schema[] } | undefined)?.options;
      const branch = issue.errors.findIndex((errors) => errors.every((e) => !(e.code === "invalid_type" && e.path.length === 0)));
      if (branch >= 0 && options?.[branch] !== undefined) {
        for (const inner of issue.errors[branch]!) report(inner, [], options[branch], value, path, problems);
        return;
      }
      break;
    }
    case "invalid_value": {
      if (isMissing(data, rel)) break;
      const hint = typeof value === "string" ? closest(value, issue.values.map(String)) : undefined;
      problems.add(path, `expected ${issue.message}, found ${found(value)}${hint ? ` (did you mean "${hint}"?)` : ""}`);
      return;
    }
  }
  problems.add(path, isMissing(data, rel) ? `missing: expected ${issue.message}` : `expected ${issue.message}, found ${found(value)}`);
}

function valueAt(data: unknown, path: DataPath): unknown {
  let value = data;
  for (const part of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string | number, unknown>)[part];
  }
  return value;
}

/** A key that is absent (not merely undefined-valued) from an object that is there. */
function isMissing(data: unknown, path: DataPath): boolean {
  if (path.length === 0) return data === undefined;
  const parent = valueAt(data, path.slice(0, -1));
  return typeof parent === "object" && parent !== null && !Array.isArray(parent) && !Object.hasOwn(parent, path[path.length - 1]!);
}

interface Def {
  readonly type: string;
  readonly innerType?: Schema;
  readonly shape?: Record<string, Schema>;
  readonly valueType?: Schema;
  readonly element?: Schema;
  readonly options?: Schema[];
}

/** The schema that checks the value at `path` (through optional, object, record, array and union). */
function schemaAt(schema: Schema | undefined, path: DataPath): Schema | undefined {
  let s = schema;
  for (let k = 0; k <= path.length && s !== undefined; k++) {
    let def = s._zod.def as unknown as Def;
    while (def.innerType !== undefined) {
      s = def.innerType;
      def = s._zod.def as unknown as Def;
    }
    if (k === path.length) break;
    const part = path[k]!;
    if (def.type === "object") s = def.shape?.[String(part)];
    else if (def.type === "record") s = def.valueType;
    else if (def.type === "array") s = def.element;
    else if (def.type === "union") {
      const object = def.options?.find((o) => (o._zod.def as unknown as Def).shape?.[String(part)] !== undefined);
      s = (object?._zod.def as unknown as Def | undefined)?.shape?.[String(part)];
    } else s = undefined;
  }
  return s;
}

function keysOf(schema: Schema | undefined): string[] {
  const def = schema?._zod.def as unknown as Def | undefined;
  if (def?.type === "object" && def.shape !== undefined) return Object.keys(def.shape);
  if (def?.type === "union") return [...new Set((def.options ?? []).flatMap((o) => keysOf(o)))];
  return [];
}
