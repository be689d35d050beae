/**
 * `flotilla agent`: a remote agent of flotilla/bullmq as a process. It pulls attempts from its own
 * BullMQ queue and runs them on worker threads and child processes (`--concurrency` of each; worker
 * modules in its own thread with --in-thread), prints a line when ready, per attempt and per cancel
 * (or one JSON object per event with --json), and stops on SIGINT/SIGTERM: once drains the running
 * attempts and exits 0, twice aborts them and exits 130. Loaded only when the command runs
 * (cli/main.ts imports it on demand), so bullmq and ioredis are needed only here.
 */
import { startAgent } from "../../adapters/bullmq/agent/index.ts";
import type { Agent, AgentEvent } from "../../adapters/bullmq/agent/index.ts";
import { errorWire } from "../../adapters/bullmq/wire.ts";
import { childProcess } from "../../adapters/child-process/index.ts";
import { inThread, workerThreads } from "../../adapters/worker-threads/index.ts";
import { messageOf } from "../../src/errors.ts";
import type { AgentCommandOptions } from "../agent-options.ts";
import { EXIT } from "../exit-codes.ts";
import { stderr, stdout } from "../io.ts";
import { onInterrupt } from "../signals.ts";

export async function agentCommand(options: AgentCommandOptions): Promise<number> {
  let agent: Agent | undefined;
  let forced = false;
  let heard: () => void = () => {};
  const interrupted = new Promise<void>((resolve) => (heard = resolve));
  // Listened to from the start, so a signal while Redis is being reached stops the agent cleanly too.
  const unlisten = onInterrupt({
    first: (signal) => {
      if (agent !== undefined && !options.json)
        stdout.write(`agent ${agent.id} stopping (${signal}): draining ${agent.running} running attempt(s); ${signal} again aborts them\n`);
      else if (agent !== undefined) stdout.write(`${JSON.stringify({ type: "stopping", signal, running: agent.running })}\n`);
      heard();
    },
    again: () => {
      // A second signal while draining: abort what still runs.
      forced = true;
      void agent?.close({ force: true });
      heard();
    },
  });
  try {
    const concurrency = options.concurrency;
    agent = await startAgent({
      connection: options.redis,
      queue: options.queue,
      name: options.name,
      prefix: options.prefix,
      concurrency,
      modules: options.modules,
      allowShell: options.allowShell,
      maxPayloadBytes: options.maxPayloadBytes,
      maxOutputBytes: options.maxOutputBytes,
      leaseMs: options.leaseMs,
      providers: [options.inThread ? inThread() : workerThreads({ threads: concurrency, tasksPerThread: 1 }), childProcess({ slots: concurrency })],
      onEvent: options.json ? printJson : (event) => printLine(event, options.queue),
    });
    await interrupted;
    await agent.close({ force: forced });
    return forced ? EXIT.cancelled : EXIT.succeeded;
  } finally {
    unlisten();
  }
}

function printLine(event: AgentEvent, queue: string): void {
  switch (event.type) {
    case "ready":
      stdout.write(`agent ${event.info.id} ready on queue ${queue} (concurrency ${event.info.concurrency}, kinds ${event.info.kinds.join(", ")})\n`);
      break;
    case "attempt:start":
      stdout.write(
        `start ${event.jobId}: task "${event.taskId}" attempt ${event.attempt} (${event.kind})${event.duplicateOf === undefined ? "" : `, a second delivery of ${event.duplicateOf}`}\n`,
      );
      break;
    case "attempt:end":
      stdout.write(
        `end ${event.jobId}: task "${event.taskId}" attempt ${event.attempt} ${event.outcome} after ${Math.round(event.durationMs)} ms${event.detail === undefined ? "" : ` (${event.detail})`}\n`,
      );
      break;
    case "cancel":
      stdout.write(`cancel ${event.jobId}: stopped ${event.stoppedAfterMs.toFixed(1)} ms after the cancel arrived\n`);
      break;
    case "error":
      stderr.write(`flotilla agent: ${messageOf(event.error)}\n`);
      break;
  }
}

function printJson(event: AgentEvent): void {
  stdout.write(`${JSON.stringify(event.type === "error" ? { type: "error", error: errorWire(event.error) } : event)}\n`);
}
