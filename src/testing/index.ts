/**
 * flotilla/testing: systematic, deterministic testing of jobs and providers. `explore` runs a test
 * under many schedules of a controlled runtime (virtual time, chosen orders, injected faults) and
 * checks invariants after every step; `replay` reproduces a failing schedule exactly. `virtualRuntime`
 * is the plain virtual clock for tests that need time without exploring.
 */
export { explore, replay, type ExploreOptions, type ExploreContext, type ExploreReport, type ExploreBody } from "./explore.ts";
export { ScheduleFailure, formatTrace, type ScheduleTrace, type RecordedFault } from "./schedule-failure.ts";
export type { FaultPlan, FaultRule, FaultSite } from "./faults.ts";
export type { ServiceModel, ServiceOptions } from "./service-model.ts";
export type { StrategyName } from "./strategies.ts";
export { InvariantViolation } from "./invariants.ts";
export { virtualRuntime, type VirtualRuntime, type VirtualRuntimeOptions } from "./virtual-runtime.ts";
export { seededRandom } from "./seeded-random.ts";
export { providerContract, type ProviderContractOptions, type ContractBodies, type ContractCheck } from "./provider-contract.ts";
export {
  simulatedCloud,
  type SimulatedCloud,
  type SimulatedCloudOptions,
  type LatencyMs,
  type PerPriority,
  type CloudLedger,
  type PriorityLedger,
  type SimulatedVm,
  type CloudTimelineEntry,
} from "./simulated-cloud.ts";
