/** The bodies agents run: the same specs as the worker-thread and child-process providers take. */
import type { CommandSpec, WorkerTaskSpec } from "../../src/provider-kit/body-specs.ts";

/** A body an agent runs: a worker module's export (`workerTask`) or a command line (`command`). */
export type LocalBody = WorkerTaskSpec<any> | CommandSpec<any>;
