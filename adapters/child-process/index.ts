/**
 * flotilla/child-process: run command lines as tasks, in child processes on this machine.
 * `command(argv, options)` is the task body, `childProcess({ slots })` the provider that runs it.
 */
export { command, type CommandOptions, type CommandSpec } from "./command.ts";
export { childProcess, type ChildProcessOptions } from "./provider.ts";
export { CommandFailedError, type CommandFailure, type CommandFailedDetails } from "./errors.ts";
