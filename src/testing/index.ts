/**
 * flotilla/testing: deterministic test helpers for jobs and providers. Today: a virtual-clock runtime
 * with seeded randomness and fault hooks. The controlled scheduler (explore, replay) builds on it.
 */
export { virtualRuntime, seededRandom, type VirtualRuntime, type VirtualRuntimeOptions } from "./virtual-runtime.ts";
