/**
 * The testing kit's words, declared with core's open vocabularies (see ../vocabulary.ts) as any
 * extension declares its own: its error codes and its fault point. Everything in the kit uses these
 * constants, so each word is written once; `errorCodes()` and `faultPoints()` list them once the kit
 * is loaded.
 */
import { declareErrorCodes, declareFaultPoints, faultPoints } from "../vocabulary.ts";

const OWNER = "flotilla/testing";

export const KIT_ERROR_CODES = declareErrorCodes(OWNER, {
  E_SCHEDULE_FAILED:
    "a schedule explore() or replay() ran failed (an assertion, an invariant, liveness, or a schedule that could not go on); the error is a ScheduleFailure whose trace replays it",
  E_SCHEDULE_DIVERGED:
    "a replayed schedule took another course than the one recorded: the code, the job or the options changed, or the test is not deterministic under the controlled runtime",
});

export const KIT_FAULT_POINTS = declareFaultPoints(OWNER, {
  "service.call": 'when a call to a modelled service (t.service) takes effect; fail: the call rejects instead (detail: "<service>.<op>")',
});

/** The names of the fault points declared by now: core's, the kit's (above, so always among them) and any extension's. */
export function declaredFaultPoints(): string[] {
  return [...faultPoints().keys()];
}
