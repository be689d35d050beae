/**
 * Yields one real macrotask, so every promise callback queued so far (and those they queue) has run:
 * how the virtual and controlled runtimes reach quiescence. This file and uncontrolled.ts are the only
 * ones in the testing kit that touch real scheduling; neither ever reads real time.
 */
// The only real scheduling: yield one macrotask so every queued promise callback runs first. A
// MessageChannel message is the cheapest macrotask on Node and Deno (about 0.8 µs against 1.2 µs for
// setImmediate here). The port holds the process open only while a yield is pending. Captured at
// load, so a test that replaces the global timers cannot break the controller.
type Port = {
  onmessage: (() => void) | null;
  postMessage(value: unknown): void;
  ref?(): void;
  unref?(): void;
  /** Node's MessagePort (a NodeEventTarget): about 15% cheaper per message than `onmessage`, measured. */
  on?(event: "message", listener: () => void): unknown;
};
// Deno delivers port messages through its own op machinery, which is not a clean macrotask
// boundary there, so Deno (and any runtime without MessageChannel) uses setImmediate or setTimeout.
const g = globalThis as { Deno?: unknown; setImmediate?: (callback: () => void) => unknown };
const channel = typeof MessageChannel === "function" && g.Deno === undefined ? new MessageChannel() : undefined;
const receiver = channel?.port1 as unknown as Port | undefined;
const sender = channel?.port2 as unknown as Port | undefined;
const waiting: (() => void)[] = [];
/** Holders that yield back to back (the controller, for a whole schedule): the port stays ref'd meanwhile. */
let holders = 0;
if (receiver !== undefined) {
  const received = (): void => {
    const resolve = waiting.shift();
    if (waiting.length === 0 && holders === 0) receiver.unref?.();
    resolve?.();
  };
  if (typeof receiver.on === "function") receiver.on("message", received);
  else receiver.onmessage = received;
  receiver.unref?.();
}
const realSetTimeout = globalThis.setTimeout;
const realSetImmediate = g.setImmediate;
// One executor function for every yield (the controller yields once per step): no closure per call.
const yieldTo =
  sender !== undefined
    ? (resolve: () => void): void => {
        if (waiting.length === 0 && holders === 0) receiver!.ref?.();
        waiting.push(resolve);
        sender.postMessage(0);
      }
    : (resolve: () => void): void => void (realSetImmediate !== undefined ? realSetImmediate(resolve) : realSetTimeout(resolve, 0));
export const macrotask = (): Promise<void> => new Promise(yieldTo);

/**
 * Keeps the port ref'd from now until the matching `releaseMacrotasks`, for a caller about to yield
 * many times in a row (the controller, once per step): it then holds the process open exactly as a
 * pending yield does, without a ref and an unref per yield.
 */
export function holdMacrotasks(): void {
  if (holders++ === 0 && waiting.length === 0) receiver?.ref?.();
}

export function releaseMacrotasks(): void {
  if (--holders === 0 && waiting.length === 0) receiver?.unref?.();
}
