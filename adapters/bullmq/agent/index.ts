/** The remote agent of flotilla/bullmq: `startAgent()` and its types (re-exported by adapters/bullmq/index.ts). */
export { startAgent, type Agent } from "./agent.ts";
export type { AgentEvent, AgentOptions, AttemptOutcome } from "./options.ts";
