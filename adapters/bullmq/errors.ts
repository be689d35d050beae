/**
 * The errors of flotilla/bullmq: its declared codes and the error an attempt fails with when an agent
 * could not run it as asked (a module outside its folder, a payload over the limit, a kind it does not
 * run). An error thrown by the task's own code comes back with its name, message, code and properties.
 */
import { FlotillaError } from "../../src/errors.ts";
import { declareErrorCodes } from "../../src/vocabulary.ts";

/** The codes this adapter raises, declared as its own (see `errorCodes()` from flotilla). */
export const BULLMQ_ERROR_CODES = declareErrorCodes("flotilla/bullmq", {
  E_REMOTE_REFUSED:
    "an agent refused an attempt: its module is outside the agent's modules folder, its payload or output is over a size limit, or the agent does not run its kind (RemoteRefusedError)",
  E_PAYLOAD_TOO_LARGE: "an attempt's input and dependency outputs, or its output, are larger than the limit set for what crosses Redis",
  E_REDIS_UNAVAILABLE: "Redis could not be reached for longer than the provider's `redisTimeoutMs`: the attempts it held were given up",
});

/** Why an agent refused an attempt. */
export type RemoteRefusal = "module" | "payload" | "output" | "kind" | "shell" | "version";

/** An agent refused an attempt (code E_REMOTE_REFUSED); `refusal` says why, the message says what to change. */
export class RemoteRefusedError extends FlotillaError {
  readonly refusal: RemoteRefusal;
  readonly agentId: string;
  constructor(refusal: RemoteRefusal, agentId: string, message: string) {
    super(BULLMQ_ERROR_CODES.E_REMOTE_REFUSED, message);
    this.refusal = refusal;
    this.agentId = agentId;
  }
  override get name(): string {
    return "RemoteRefusedError";
  }
}
