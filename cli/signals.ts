/**
 * Ctrl-C and SIGTERM during a run: the first asks for a graceful stop, the second for an immediate one.
 * While listened to, neither signal kills the process by itself (Node only does that when nobody listens).
 */

export type InterruptSignal = "SIGINT" | "SIGTERM";

export interface InterruptHandlers {
  /** The first SIGINT or SIGTERM. */
  first(signal: InterruptSignal): void;
  /** Every later one. */
  again(signal: InterruptSignal): void;
}

/** Listens to SIGINT and SIGTERM until the returned function is called (it removes both listeners). */
export function onInterrupt(handlers: InterruptHandlers): () => void {
  let heard = 0;
  const listener = (signal: InterruptSignal): void => {
    if (heard++ === 0) handlers.first(signal);
    else handlers.again(signal);
  };
  process.on("SIGINT", listener);
  process.on("SIGTERM", listener);
  return () => {
    process.off("SIGINT", listener);
    process.off("SIGTERM", listener);
  };
}
