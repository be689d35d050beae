/**
 * A simulated cloud's API front door: every call (create, delete, list) travels for its latency, as a
 * runtime timer, and is then answered in order by what a cloud's API does before it acts: an open
 * throttling window or a new one (retry-after), the `provider.call` fault point, a transient error.
 * Half of the transient errors strike after the cloud acted, when only the answer was lost: the call
 * still takes effect, and the caller gets the same error as if it had not.
 */
import type { CoreFaultPoint } from "../fault-points.ts";
import type { Runtime } from "../runtime.ts";
import type { Draws } from "./simulated-cloud-draws.ts";
import { injectedFault, throttled, transientApiError } from "./simulated-cloud-errors.ts";
import { cloudLabel } from "./simulated-cloud-labels.ts";
import type { CallOp, Ledger } from "./simulated-cloud-ledger.ts";
import type { CloudConfig } from "./simulated-cloud-options.ts";

const PROVIDER_CALL = "provider.call" satisfies CoreFaultPoint;

export class ApiGate {
  readonly #config: CloudConfig;
  readonly #runtime: Runtime;
  readonly #draws: Draws;
  readonly #ledger: Ledger;
  /** Until when (runtime ms) every call is refused, since the last throttling. */
  #throttledUntil = -Infinity;

  constructor(config: CloudConfig, draws: Draws, ledger: Ledger) {
    this.#config = config;
    this.#runtime = config.runtime;
    this.#draws = draws;
    this.#ledger = ledger;
  }

  /**
   * Sends call `op` (about `subject`, a VM's id or a create's name). When it reaches the cloud it is
   * either refused (`refuse(error)`) or acted on (`act(answerLost)`). With `answerLost` the cloud acts
   * but `act` must not answer: the caller gets a transient error through `refuse` right after.
   */
  call(op: CallOp, subject: string | undefined, act: (answerLost: boolean) => void, refuse: (error: unknown) => void): void {
    const label = cloudLabel(this.#config.name, `call ${op}`, subject);
    const what = subject === undefined ? op : `${op} ${JSON.stringify(subject)}`;
    this.#runtime.setTimer(this.#draws.ms(this.#config.apiLatencyMs), () => this.#land(op, what, label, act, refuse), label);
  }

  #land(op: CallOp, what: string, label: string, act: (answerLost: boolean) => void, refuse: (error: unknown) => void): void {
    const ledger = this.#ledger;
    const now = this.#runtime.now();
    ledger.call(op);
    if (now < this.#throttledUntil) {
      ledger.refuse("throttled");
      refuse(throttled(this.#config.name, what, this.#throttledUntil - now));
      return;
    }
    if (this.#draws.chance(this.#config.throttleRate)) {
      this.#throttledUntil = now + this.#config.throttleRetryAfterMs;
      ledger.refuse("throttled");
      refuse(throttled(this.#config.name, what, this.#config.throttleRetryAfterMs));
      return;
    }
    const fault = this.#runtime.fault?.(PROVIDER_CALL, { point: PROVIDER_CALL, jobName: "", detail: label });
    if (fault?.kind === "fail") {
      ledger.refuse("injected");
      refuse(fault.error ?? injectedFault(this.#config.name, what, PROVIDER_CALL));
      return;
    }
    if (this.#draws.chance(this.#config.apiErrorRate)) {
      ledger.refuse("apiErrors");
      if (this.#draws.chance(0.5)) act(true);
      refuse(transientApiError(this.#config.name, what));
      return;
    }
    act(false);
  }
}
