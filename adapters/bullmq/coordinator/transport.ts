/**
 * What the coordinator needs from the queue, as an interface: the BullMQ transport implements it on
 * Redis (bullmq-transport.ts), and a model of the queue implements it in tests, so the coordinator's
 * logic — placement on agents, results heard once, lost agents, lost results, cancels — is explored
 * deterministically under `explore()` with delays, duplicate deliveries and lost acknowledgements.
 */
import type { AgentInfo, AttemptData, AttemptResult, CancelMessage, ProgressData } from "../wire.ts";

/** An agent as the coordinator sees it: its description, and whether its heartbeat is current. */
export interface AgentSeen {
  readonly info: AgentInfo;
  readonly live: boolean;
}

/** Where a job is, when the coordinator asks (to find results it did not hear). */
export type JobState =
  | { readonly state: "pending" }
  | { readonly state: "done"; readonly result: AttemptResult }
  | { readonly state: "failed"; readonly reason: string }
  | { readonly state: "missing" };

/** What the transport tells the coordinator. Calls may repeat (a result heard twice) or never come (a lost acknowledgement). */
export interface TransportListener {
  /** An agent took a job from its queue: the attempt runs from now (heard before its result, if at all). */
  active(agentId: string, jobId: string): void;
  /** A job's processor returned this result. */
  result(agentId: string, jobId: string, result: AttemptResult): void;
  /** A job failed in BullMQ (its attempt was cancelled, or its agent lost the job's lock). */
  failed(agentId: string, jobId: string, reason: string): void;
  /** Log lines of a running job. */
  progress(agentId: string, jobId: string, data: ProgressData): void;
  /** Redis answers again (true) or stopped answering (false). */
  connection(up: boolean): void;
}

export interface Transport {
  /** The agents described on the queue, with their liveness; rejects when Redis does not answer. */
  agents(): Promise<readonly AgentSeen[]>;
  /** Starts hearing one agent's results (before any job is sent to it). */
  open(agent: AgentInfo): Promise<void>;
  /** Stops hearing one agent. */
  shut(agentId: string): Promise<void>;
  /** Adds jobs to an agent's queue (a job id already there is not added twice). */
  send(agentId: string, jobs: ReadonlyArray<{ readonly jobId: string; readonly name: string; readonly data: AttemptData }>): Promise<void>;
  /** Removes a job its agent has not started; false when it has (or it is gone). */
  withdraw(agentId: string, jobId: string): Promise<boolean>;
  /** Tells an agent to abort a job's attempt. */
  cancel(agentId: string, message: CancelMessage): Promise<void>;
  /** Where these jobs are (pending, done with the result, failed, or missing). */
  states(agentId: string, jobIds: readonly string[]): Promise<JobState[]>;
  /** Closes every connection it made. */
  close(): Promise<void>;
  /** The last connection error it heard (for messages; never with a password), if any. */
  lastError?(): string | undefined;
}
