/**
 * A model of the BullMQ queue as the coordinator sees it (the `Transport` of adapters/bullmq/coordinator),
 * in the virtual time of a runtime: agents pull jobs and "run" them by computing their output from the
 * job's data; faults come from the schedule's randomness — every operation and event late, events lost
 * or heard twice, jobs run twice, finished jobs evicted, agents dying, Redis outages (back empty or not).
 */
import type { AgentSeen, JobState, Transport, TransportListener } from "../adapters/bullmq/coordinator/transport.ts";
import { type AttemptData, type AttemptPayload, type AttemptResult, CANCELLED_JOB, type CancelMessage, WIRE_VERSION } from "../adapters/bullmq/wire.ts";
import type { Runtime } from "../src/index.ts";

/** One job as Redis holds it (a job sent again after it vanished is a new record under the same id). */
export interface ModelJob {
  readonly id: string;
  readonly agentId: string;
  readonly data: AttemptData;
  state: "waiting" | "active" | "done" | "failed" | "withdrawn" | "vanished" | "evicted";
  result?: AttemptResult;
  /** When it ended on its agent (done or failed). */
  endedAt?: number;
  /** The agent got a cancel for it before it pulled it. */
  cancelled: boolean;
}

interface Agent {
  readonly info: AgentSeen["info"];
  alive: boolean;
  /** When its liveness lease is back after Redis came back empty (its next heartbeat). */
  leaseAt: number;
  active: number;
  readonly jobs: Map<string, ModelJob>;
  readonly waiting: ModelJob[];
}

/** How often each fault fires: each is on or off for a whole schedule (FoundationDB's BUGGIFY). */
export interface ModelFaults {
  readonly lostEvent: number;
  readonly duplicateEvent: number;
  readonly duplicateRun: number;
  readonly evict: number;
}

export function drawFaults(random: () => number): ModelFaults {
  const on = (rate: number) => (random() < 0.5 ? rate : 0);
  return { lostEvent: on(0.3), duplicateEvent: on(0.3), duplicateRun: on(0.2), evict: on(0.3) };
}

/** What an agent computes for an attempt: a function of its task, input and dependencies' outputs only. */
export function outputOf(kind: string, taskId: string, input: unknown, deps: Record<string, unknown>): unknown {
  const text = JSON.stringify(Object.entries(deps).sort(([a], [b]) => (a < b ? -1 : 1)));
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  const hash = (h >>> 0).toString(16);
  return kind === "command" ? `${taskId}:${hash}` : { task: taskId, input, hash };
}

const INFO = { v: WIRE_VERSION, kinds: ["worker-thread", "command"], host: "model", maxPayloadBytes: 1 << 20, maxOutputBytes: 1 << 20 };

export class QueueModel implements Transport {
  readonly agentList: Agent[];
  /** Every job record ever made. */
  readonly jobs: ModelJob[] = [];
  /** The attempt ("task#attempt") each job id was sent for. */
  readonly owners = new Map<string, string>();
  /** The job ids the coordinator asked to withdraw or cancel. */
  readonly cancelsAsked = new Set<string>();
  /** What must never happen (a job id sent for two attempts, a closed transport used): checked after every step. */
  readonly violations: string[] = [];
  readonly count = { lost: 0, twice: 0, reruns: 0, evicted: 0, emptied: 0, outages: 0, deaths: 0, cancels: 0, withdrawn: 0, resends: 0 };
  listener: TransportListener | undefined = undefined;
  transports = 0;
  closes = 0;
  up = true;
  readonly #runtime: Runtime;
  readonly #random: () => number;
  readonly #faults: ModelFaults;
  readonly #heard = new Set<string>();
  #parked: (() => void)[] = [];
  #pending = 0;
  readonly #drains: (() => void)[] = [];

  constructor(runtime: Runtime, random: () => number, concurrencies: readonly number[], faults: ModelFaults) {
    this.#runtime = runtime;
    this.#random = random;
    this.#faults = faults;
    this.agentList = concurrencies.map((concurrency, i) => {
      const info = { ...INFO, id: `agent${i}`, queue: `q-agent${i}`, concurrency, pid: i, startedAt: i };
      return { info, alive: true, leaseAt: 0, active: 0, jobs: new Map(), waiting: [] };
    });
  }

  /** The transport factory: the hub makes its transport on its first start (and again after it closed it). */
  attach(listener: TransportListener): Transport {
    this.listener = listener;
    this.transports++;
    return this;
  }

  get isOpen(): boolean {
    return this.transports > this.closes;
  }

  agents(): Promise<readonly AgentSeen[]> {
    return this.#op("agents", () => this.agentList.map((a) => ({ info: a.info, live: a.alive && this.#runtime.now() >= a.leaseAt })));
  }

  open(agent: AgentSeen["info"]): Promise<void> {
    return this.#op("open", () => void this.#heard.add(agent.id));
  }

  shut(agentId: string): Promise<void> {
    return this.#op("shut", () => void this.#heard.delete(agentId));
  }

  send(agentId: string, jobs: ReadonlyArray<{ readonly jobId: string; readonly name: string; readonly data: AttemptData }>): Promise<void> {
    return this.#op("send", () => {
      const agent = this.#agent(agentId);
      for (const { jobId, data } of jobs) {
        const owner = `${data.taskId}#${data.attempt}`;
        if ((this.owners.get(jobId) ?? owner) !== owner) this.violations.push(`job id ${jobId} sent for ${owner} and for ${this.owners.get(jobId)}`);
        this.owners.set(jobId, owner);
        if (agent.jobs.has(jobId)) continue; // BullMQ does not add a job id twice
        if (this.jobs.some((j) => j.id === jobId)) this.count.resends++;
        const job: ModelJob = { id: jobId, agentId, data, state: "waiting", cancelled: false };
        this.jobs.push(job);
        agent.jobs.set(jobId, job);
        agent.waiting.push(job);
      }
      this.#pump(agent);
    });
  }

  withdraw(agentId: string, jobId: string): Promise<boolean> {
    return this.#op("withdraw", () => {
      this.cancelsAsked.add(jobId);
      const agent = this.#agent(agentId);
      const job = agent.jobs.get(jobId);
      if (job?.state !== "waiting") return false;
      this.#remove(agent, job, "withdrawn");
      this.count.withdrawn++;
      return true;
    });
  }

  cancel(agentId: string, message: CancelMessage): Promise<void> {
    return this.#op("cancel", () => {
      this.cancelsAsked.add(message.jobId);
      const agent = this.#agent(agentId);
      const job = agent.jobs.get(message.jobId);
      if (job?.state === "waiting") job.cancelled = true;
      // The agent aborts the attempt; its job fails a while later (the body's grace, its process killed).
      else if (job?.state === "active") this.#timer(this.#delay(20), () => this.#fail(agent, job), `model ${agentId} cancels ${job.id}`);
    });
  }

  states(agentId: string, jobIds: readonly string[]): Promise<JobState[]> {
    return this.#op("states", () =>
      jobIds.map((id): JobState => {
        const job = this.#agent(agentId).jobs.get(id);
        if (job === undefined) return { state: "missing" };
        if (job.state === "done") return { state: "done", result: job.result! };
        return job.state === "failed" ? { state: "failed", reason: CANCELLED_JOB } : { state: "pending" };
      }),
    );
  }

  close(): Promise<void> {
    this.closes++;
    this.#heard.clear();
    return Promise.resolve();
  }

  /** The agent dies: no heartbeat, no answer, nothing more pulled. */
  kill(agentId: string): void {
    const agent = this.#agent(agentId);
    if (agent.alive) this.count.deaths++;
    agent.alive = false;
  }

  /** Redis stops answering for `ms`, and comes back empty (every job gone, leases back late) when `empty`. */
  outage(ms: number, empty: boolean): void {
    if (!this.up) return;
    this.up = false;
    this.count.outages++;
    this.listener?.connection(false);
    this.#timer(ms, () => this.#back(empty), "model redis back");
  }

  /** Resolves when no timer of the model is pending: every job on a live agent ended, every event delivered or dropped. */
  async drained(): Promise<void> {
    // Again after each wake: an operation applies a turn after its timer, and may start another.
    while (this.#pending > 0) await new Promise<void>((resolve) => this.#drains.push(resolve));
  }

  #back(empty: boolean): void {
    if (empty) this.count.emptied++;
    for (const agent of this.agentList) {
      if (!empty) continue;
      for (const job of [...agent.jobs.values()]) this.#remove(agent, job, "vanished");
      agent.leaseAt = this.#runtime.now() + this.#delay(150);
    }
    this.up = true;
    for (const go of this.#parked.splice(0)) this.#timer(this.#delay(5), go, "model redis answers again");
    for (const agent of this.agentList) this.#pump(agent);
    if (this.isOpen) this.listener?.connection(true);
  }

  #timer(ms: number, fn: () => void, label: string): void {
    this.#pending++;
    this.#runtime.setTimer(ms, () => this.#fire(fn), label);
  }

  #fire(fn: () => void): void {
    this.#pending--;
    fn();
    if (this.#pending === 0) for (const resolve of this.#drains.splice(0)) resolve();
  }

  #delay(max: number): number {
    return Math.floor(this.#random() * (max + 1));
  }

  #agent(id: string): Agent {
    const agent = this.agentList.find((a) => a.info.id === id);
    if (agent === undefined) throw new Error(`no agent "${id}" in the model`);
    return agent;
  }

  /** An operation: applied after a delay, and while Redis is down it waits (ioredis queues commands while it reconnects). */
  #op<T>(name: string, apply: () => T): Promise<T> {
    if (!this.isOpen) this.violations.push(`${name} called on a closed transport`);
    return new Promise<void>((resolve) => {
      const go = () => (this.up ? resolve() : void this.#parked.push(go));
      this.#timer(this.#delay(10), go, `model ${name}`);
    }).then(apply);
  }

  /** An event to the coordinator: late, perhaps lost, perhaps twice; heard only while Redis is up and the agent open. */
  #emit(agentId: string, what: string, deliver: (l: TransportListener) => void): void {
    if (this.#random() < this.#faults.lostEvent) return void this.count.lost++;
    const times = this.#random() < this.#faults.duplicateEvent ? 2 : 1;
    if (times === 2) this.count.twice++;
    const heard = () => this.up && this.isOpen && this.#heard.has(agentId) && deliver(this.listener!);
    for (let i = 0; i < times; i++) this.#timer(this.#delay(15), heard, `model event ${what}`);
  }

  #remove(agent: Agent, job: ModelJob, state: "withdrawn" | "vanished" | "evicted"): void {
    if (job.state === "active") agent.active--;
    job.state = state;
    agent.jobs.delete(job.id);
    const i = agent.waiting.indexOf(job);
    if (i >= 0) agent.waiting.splice(i, 1);
    this.#pump(agent);
  }

  /** The agent pulls waiting jobs up to its concurrency, a moment later (its worker's poll). */
  #pump(agent: Agent): void {
    if (agent.waiting.length > 0) this.#timer(this.#delay(20), () => this.#take(agent), `model ${agent.info.id} pulls`);
  }

  #take(agent: Agent): void {
    while (agent.alive && this.up && agent.active < agent.info.concurrency && agent.waiting.length > 0) {
      const job = agent.waiting.shift()!;
      if (job.cancelled) {
        this.#fail(agent, job);
        continue;
      }
      job.state = "active";
      agent.active++;
      this.#emit(agent.info.id, "active", (l) => l.active(agent.info.id, job.id));
      const runs = this.#random() < this.#faults.duplicateRun ? 2 : 1; // a stalled job run again: answered twice
      if (runs === 2) this.count.reruns++;
      for (let r = 0; r < runs; r++) {
        const ms = 5 + this.#delay(60);
        this.#timer(ms >> 1, () => this.#progress(agent, job), `model ${agent.info.id} logs ${job.id}`);
        this.#timer(ms, () => this.#finish(agent, job, r === 0), `model ${agent.info.id} ends ${job.id}`);
      }
    }
  }

  #progress(agent: Agent, job: ModelJob): void {
    if (agent.alive && job.state === "active")
      this.#emit(agent.info.id, "progress", (l) => l.progress(agent.info.id, job.id, { log: [["stdout", `${job.id} working`]] }));
  }

  #finish(agent: Agent, job: ModelJob, first: boolean): void {
    if (!agent.alive) return;
    if (!this.up) return void this.#parked.push(() => this.#finish(agent, job, first));
    if (first) {
      if (job.state !== "active") return; // cancelled, vanished or evicted meanwhile: its result is lost with its lock
      const payload = JSON.parse(job.data.payload) as AttemptPayload;
      job.result = { t: "ok", json: JSON.stringify(outputOf(job.data.body.kind, job.data.taskId, payload.input, payload.deps)) };
      job.state = "done";
      job.endedAt = this.#runtime.now();
      agent.active--;
      this.#pump(agent);
      if (this.#random() < this.#faults.evict) this.#timer(this.#delay(300), () => this.#evict(agent, job), "model evicts a finished job");
    } else if (job.state !== "done") return;
    const result = job.result!;
    this.#emit(agent.info.id, "result", (l) => l.result(agent.info.id, job.id, result));
  }

  #evict(agent: Agent, job: ModelJob): void {
    if (agent.jobs.get(job.id) !== job) return;
    this.count.evicted++;
    this.#remove(agent, job, "evicted");
  }

  #fail(agent: Agent, job: ModelJob): void {
    if (!agent.alive || (job.state !== "active" && job.state !== "waiting")) return;
    if (job.state === "active") agent.active--;
    job.state = "failed";
    job.endedAt = this.#runtime.now();
    this.count.cancels++;
    this.#pump(agent);
    this.#emit(agent.info.id, "failed", (l) => l.failed(agent.info.id, job.id, CANCELLED_JOB));
  }
}
