/**
 * The errors of flotilla/cloud-vm: its declared code (E_VM_TASK_FAILED) and the error an attempt on a
 * `localVms()` VM fails with when its body could not run as asked. (The cloud API's own codes,
 * E_VM_THROTTLED, E_VM_QUOTA and E_VM_API, are the provider kit's: every driver raises them.)
 */
import { FlotillaError } from "../../src/errors.ts";
import { declareErrorCodes } from "../../src/vocabulary.ts";

/** The codes this adapter raises, declared as its own (see `errorCodes()` from flotilla). */
export const CLOUD_VM_ERROR_CODES = declareErrorCodes("flotilla/cloud-vm", {
  E_VM_TASK_FAILED:
    "a task body on a local VM could not run as asked: its module or export could not be loaded, its input or output is not JSON, or its command could not start, exited non-zero, was killed or wrote bad output (VmTaskFailedError)",
});

/**
 * Why an attempt on a local VM failed for a reason of its spec rather than of its body's own code:
 * - `"module"`, `"export"`, `"type"`: the worker module could not be imported, has no such export, or the export is not a function;
 * - `"input"`: the input, the dependencies' outputs or their errors could not be written as JSON;
 * - `"output"`: the function's output could not be written as JSON;
 * - `"spawn"`, `"exit"`, `"signal"`, `"output-limit"`, `"output-json"`: as for flotilla/child-process's `CommandFailedError`.
 */
export type VmTaskFailure = "module" | "export" | "type" | "input" | "output" | "spawn" | "exit" | "signal" | "output-limit" | "output-json";

/** What a `VmTaskFailedError` carries besides its message. */
export interface VmTaskFailedDetails {
  readonly failure: VmTaskFailure;
  readonly taskId: string;
  readonly attempt: number;
  /** The VM (node) it ran on. */
  readonly vmId: string;
  /** For commands: how the process ended, and the last lines of its stderr. */
  readonly exitCode?: number | null;
  readonly signal?: string | null;
  readonly stderrTail?: string;
}

/**
 * An attempt on a local VM failed because its body could not run as asked (code `E_VM_TASK_FAILED`).
 * Branch on `failure`. An error thrown by a worker function itself is not wrapped: it comes back with
 * its name, message and `code`.
 */
export class VmTaskFailedError extends FlotillaError implements VmTaskFailedDetails {
  readonly failure: VmTaskFailure;
  readonly taskId: string;
  readonly attempt: number;
  readonly vmId: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderrTail: string;
  constructor(details: VmTaskFailedDetails, message: string, options?: { cause?: unknown }) {
    super(CLOUD_VM_ERROR_CODES.E_VM_TASK_FAILED, message, options);
    this.failure = details.failure;
    this.taskId = details.taskId;
    this.attempt = details.attempt;
    this.vmId = details.vmId;
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
    this.stderrTail = details.stderrTail ?? "";
  }
  override get name(): string {
    return "VmTaskFailedError";
  }
}
