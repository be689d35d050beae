/**
 * flotilla/child-process: run command lines as tasks, in child processes on this machine.
 * `command(argv, options)` is the task body, `childProcess({ slots })` the provider that runs it.
 *
 * Files, as in every adapter: provider.ts (the factory), options.ts (its options and their check),
 * spec.ts (the task body), node.ts (its one node: process groups and their files), attempt.ts (one
 * command's run, with its abort and grace), errors.ts (its code and errors); specific to commands:
 * output.ts (reading stdout and stderr).
 */
export { command, type CommandOptions, type CommandSpec } from "./spec.ts";
export { childProcess } from "./provider.ts";
export type { ChildProcessOptions } from "./options.ts";
export { CommandFailedError, CHILD_PROCESS_ERROR_CODES, type CommandFailure, type CommandFailedDetails } from "./errors.ts";
