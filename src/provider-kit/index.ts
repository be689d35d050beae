/**
 * flotilla/provider-kit: the parts every compute provider needs, for writing one of your own (a
 * cloud's VMs, a queue's remote workers). flotilla's own adapters (`flotilla/worker-threads`,
 * `flotilla/child-process`) are built on it, and write only what is specific to them.
 *
 * - `Outcome`: an attempt's promise, settled once by whichever event ends it first.
 * - `AbortGrace`: the attempt's abort passed on to its work (`stop`), forced after a grace period
 *   (`escalate`); one listener and one timer, released when the attempt ends.
 * - `StartedNodes`: the nodes a provider started; keeps `run` and `stopNode` to live nodes of its own.
 * - `nodeLostError`, `nodeStoppedError`, `nodeGoneError`, `foreignNodeError`: its errors about nodes,
 *   worded like every adapter's.
 * - `jsonCulprit`: which value of an attempt JSON refused, for its message.
 * - `wait`: a wait on the runtime's clock that an abort signal ends early.
 * - `SteppedJournal`: the order of a journal's calls (one open at a time, appends in turn, close after
 *   them); a journal of your own writes only its open, append and close steps.
 *
 * - `VmDriver` and its types and errors (`vmThrottled`, `vmQuotaExceeded`, `vmApiError`): the contract a
 *   cloud's VM API meets to become a provider through `cloudVm({ driver })` (flotilla/cloud-vm).
 *
 * Declare your adapter's own error codes with `declareErrorCodes` (from "flotilla"), and check your
 * provider with `providerContract` (from "flotilla/testing").
 */
export { Outcome } from "./outcome.ts";
export { AbortGrace, type AbortGraceOptions, type GraceTimers } from "./abort-grace.ts";
export { StartedNodes, type NodeState } from "./started-nodes.ts";
export { SteppedJournal, type JournalState } from "./stepped-journal.ts";
export { jsonCulprit } from "./json-culprit.ts";
export { wait } from "./wait.ts";
export { attemptName, bodyName, nodeLostError, nodeStoppedError, nodeGoneError, foreignNodeError, type AttemptRef } from "./node-errors.ts";
export {
  VM_ERROR_CODES,
  VmApiError,
  vmThrottled,
  vmQuotaExceeded,
  vmApiError,
  vmUnknown,
  vmNameInUse,
  type NodePriority,
  type VmInfo,
  type VmEvents,
  type VmCreateRequest,
  type VmDriver,
} from "./vm-driver.ts";
