/**
 * The worker's script, as source text for `new Worker(script, { eval: true })`. An eval script needs
 * no file next to the bundle, so the same code works from the ESM and the CJS build, from source
 * under tsx, and under Deno; it then `import()`s each task module by its absolute URL.
 */
import { threadMain } from "./thread-main.ts";
import { findUncloneable, toErrorWire } from "./wire.ts";

// Function sources are passed as expressions, so a bundler renaming the declarations changes nothing.
// `__name` is defined because a transpiler keeping function names (tsx does) may call it inside them.
export const THREAD_SCRIPT = `"use strict";
var __name = (target, value) => Object.defineProperty(target, "name", { value, configurable: true });
(${threadMain.toString()})((${findUncloneable.toString()}), (${toErrorWire.toString()}));
`;
