/**
 * The library's open vocabularies: error codes and fault points. Core declares its own here (see
 * errors.ts and fault-points.ts); an extension (a provider adapter, the testing kit, a user's own
 * adapter) declares its words with `declareErrorCodes` / `declareFaultPoints` from its own module,
 * without editing core. A declaration is checked once, at import: a malformed name, or one that
 * another owner already declared with another meaning, is refused, so two extensions cannot give one
 * code two meanings. `errorCodes()` and `faultPoints()` list what is declared (for tools and docs;
 * the kit checks a fault plan's points against `faultPoints()`).
 */
import { CORE_ERROR_CODES, FlotillaError } from "./errors.ts";
import { CORE_FAULT_POINTS } from "./fault-points.ts";

/** One declared word: who declared it and what it means. */
export interface Declaration {
  readonly owner: string;
  readonly meaning: string;
}

const CODE = /^E_[A-Z][A-Z0-9_]*$/;
const POINT = /^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)+$/;

const codes = new Map<string, Declaration>();
const points = new Map<string, Declaration>();

/**
 * Declares error codes owned by `owner` (e.g. "flotilla/child-process") and returns them by name,
 * typed as literals: `const CODES = declareErrorCodes("my-adapter", { E_QUOTA: "the cloud refused a node: quota" })`,
 * then `new FlotillaError(CODES.E_QUOTA, message)`. A code is `E_` and upper-case words.
 */
export function declareErrorCodes<const C extends string>(owner: string, meanings: { readonly [K in C]: string }): { readonly [K in C]: K } {
  return declare("error code", codes, CODE, "E_ and upper-case letters, digits or _ (e.g. E_QUOTA)", owner, meanings);
}

/**
 * Declares fault points owned by `owner` and returns them by name: a point is dotted lower-case words
 * (`service.call`, `vm.boot`). A runtime's `fault()` is consulted with it like any core point.
 */
export function declareFaultPoints<const P extends string>(owner: string, meanings: { readonly [K in P]: string }): { readonly [K in P]: K } {
  return declare("fault point", points, POINT, 'dotted lower-case words (e.g. "vm.boot")', owner, meanings);
}

/** Every error code declared so far (core's and those of the extensions loaded), with owner and meaning. */
export function errorCodes(): ReadonlyMap<string, Declaration> {
  return new Map(codes);
}

/** Every fault point declared so far (core's and those of the extensions loaded), with owner and meaning. */
export function faultPoints(): ReadonlyMap<string, Declaration> {
  return new Map(points);
}

function declare<W extends string>(
  kind: string,
  table: Map<string, Declaration>,
  shape: RegExp,
  expected: string,
  owner: string,
  meanings: { readonly [K in W]: string },
): { readonly [K in W]: K } {
  if (typeof owner !== "string" || owner === "")
    throw new FlotillaError("E_INVALID_OPTION", `declaring a ${kind}: the owner must be a non-empty string (the extension's name)`);
  if (typeof meanings !== "object" || meanings === null)
    throw new FlotillaError("E_INVALID_OPTION", `${owner}: ${kind}s must be declared as an object of { name: meaning }`);
  const names: Record<string, string> = {};
  for (const [name, meaning] of Object.entries(meanings as Record<string, unknown>)) {
    if (!shape.test(name)) throw new FlotillaError("E_INVALID_OPTION", `${owner}: ${kind} "${name}" is malformed: expected ${expected}`);
    if (typeof meaning !== "string" || meaning === "")
      throw new FlotillaError("E_INVALID_OPTION", `${owner}: ${kind} "${name}" needs its meaning as a non-empty string`);
    const known = table.get(name);
    // The same owner may declare again (a second copy of the library, a re-evaluated module).
    if (known !== undefined && (known.owner !== owner || known.meaning !== meaning)) {
      throw new FlotillaError("E_INVALID_OPTION", `${owner}: ${kind} "${name}" is already declared by ${known.owner} ("${known.meaning}")`);
    }
    names[name] = name;
  }
  for (const name of Object.keys(names)) table.set(name, { owner, meaning: (meanings as Record<string, string>)[name]! });
  return Object.freeze(names) as { readonly [K in W]: K };
}

declareErrorCodes("flotilla", CORE_ERROR_CODES);
declareFaultPoints("flotilla", CORE_FAULT_POINTS);
