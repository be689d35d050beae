/** A node of `bullmq()`, as a pool and a task's context see it. */
import type { ProviderNode } from "../../../src/provider.ts";
import type { AgentInfo } from "../wire.ts";

/** A node of `bullmq()`: one agent. */
export interface AgentNode extends ProviderNode {
  /** The agent's id. */
  readonly id: string;
  /** Its concurrency. */
  readonly slots: number;
  /** How the agent described itself. */
  readonly agent: AgentInfo;
}
