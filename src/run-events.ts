/**
 * A run's events: the emitter user listeners are added to, and whether anyone listens. Every event
 * site asks `wants(name)` first, so a run nobody watches builds no event object (one field read per
 * site on the hot path). User listeners are guarded: a throw stops neither the other listeners, nor
 * the run, nor a `for await` over the handle; the error is reported once by `callbackFailed`.
 */
import { EventEmitter } from "eventemitter3";
import type { RunEventName, RunEvents } from "./events.ts";
import { GuardedListeners, callbackFailed } from "./guarded-listeners.ts";

type Listeners = { [K in RunEventName]: (event: RunEvents[K]) => void };

export class RunEventBus {
  readonly emitter = new EventEmitter<Listeners>();
  /** False until the first listener is added: until then no event is even looked up. */
  heard = false;
  /** Depth of emission (listeners may call back into the run; see `emitting`). */
  #depth = 0;
  /** The guarded wrapper of each user listener, so `unlisten` finds it. */
  readonly #guarded = new GuardedListeners();

  /** Whether some listener hears `name` (so its event is worth building). */
  wants(name: RunEventName): boolean {
    return this.heard && this.emitter.listenerCount(name) > 0;
  }

  /** True while listeners run: an operation they start waits for the step that emitted to finish. */
  get emitting(): boolean {
    return this.#depth > 0;
  }

  emit<K extends RunEventName>(name: K, event: RunEvents[K]): void {
    this.#depth++;
    try {
      (this.emitter.emit as (name: K, event: RunEvents[K]) => boolean)(name, event);
    } catch (error) {
      this.callbackFailed(error);
    } finally {
      this.#depth--;
    }
  }

  /** Adds a user's listener, guarded (see above). */
  listen(event: RunEventName, listener: (event: never) => void, once: boolean): void {
    this.heard = true;
    const guarded = this.#guarded.wrap(listener);
    if (once) this.emitter.once(event, guarded as never);
    else this.emitter.on(event, guarded as never);
  }

  /** Removes a listener added with `listen`. */
  unlisten(event: RunEventName, listener: (event: never) => void): void {
    const guarded = this.#guarded.wrapped(listener);
    if (guarded !== undefined) this.emitter.off(event, guarded as never);
  }

  /** User code the run called (an event listener, an `onAbort` listener) threw: see guarded-listeners.ts. */
  callbackFailed(error: unknown): void {
    callbackFailed(error);
  }
}
