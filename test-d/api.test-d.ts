import { expectAssignable, expectError, expectType } from "tsd";
import {
  Job,
  run,
  start,
  FlotillaError,
  declareErrorCodes,
  declareFaultPoints,
  type RunResult,
  type TaskResult,
  type RunEvent,
  type ErrorCode,
  type ProviderNode,
} from "flotilla";
import { AbortGrace, Outcome, StartedNodes } from "flotilla/provider-kit";
import { virtualRuntime } from "flotilla/testing";

const job = new Job("etl")
  .task("extract", async () => [1, 2, 3])
  .task("name", () => "rows")
  .task("double", { dependsOn: ["extract"] }, ({ deps }) => {
    expectType<number[]>(deps.extract);
    return deps.extract.map((r) => r * 2);
  })
  .task("load", { dependsOn: ["double", "name"], retries: 2, timeoutMs: 5_000 }, async ({ deps, attempt, signal, sleep, taskId }) => {
    expectType<number[]>(deps.double);
    expectType<string>(deps.name);
    expectType<number>(attempt);
    expectType<AbortSignal>(signal);
    expectType<string>(taskId);
    expectType<Promise<void>>(sleep(10));
    return deps.double.length;
  });

// A task only sees the dependencies it declared.
new Job("j")
  .task("a", () => 1)
  .task("b", { dependsOn: ["a"] }, ({ deps }) => {
    // @ts-expect-error "c" is not a dependency of "b"
    deps.c;
    return deps.a;
  });

// A misspelt dependency id does not compile.
expectError(new Job("j").task("extract", () => 1).task("load", { dependsOn: ["extrct"] }, () => 2));

// Wrong option types do not compile.
expectError(new Job("j").task("a", { retries: "2" }, () => 1));
expectError(new Job("j").task("a", { onFailure: "ignore" }, () => 1));
expectError(new Job("j").task("a", { timeoutMs: "5s" }, () => 1));
expectError(new Job("j").task("a", { backoff: { initialMs: "1" } }, () => 1));
expectError(run(new Job("j"), { concurrency: "8" }));
expectError(run(new Job("j"), { failFast: 1 }));

// Results are typed from the job.
const result = await run(job, { concurrency: 8 });
expectType<RunResult<{ extract: number[] } & { name: string } & { double: number[] } & { load: number }>>(result);
expectType<"succeeded" | "failed" | "cancelled">(result.status);
expectType<number | undefined>(result.output("load"));
expectType<TaskResult<number>>(result.tasks.get("load"));
expectType<"succeeded" | "failed" | "cancelled" | "skipped">(result.tasks.get("load").status);
expectType<TaskResult | undefined>(result.tasks.get("not-a-task"));

// Handles: typed events, iteration, steering.
const handle = start(job, { runtime: virtualRuntime({ seed: 1 }) });
handle.on("task:succeeded", (event) => {
  expectType<string>(event.taskId);
  expectType<unknown>(event.output);
});
handle.on("task:retry", (event) => expectType<number>(event.delayMs));
// @ts-expect-error unknown event name
handle.on("task:done", () => {});
for await (const event of handle) expectAssignable<RunEvent>(event);
handle.cancel("reason");
expectType<boolean>(handle.cancelTask("extract"));
const grown = handle.addTask("report", { dependsOn: ["load"] }, ({ deps }) => `${deps.load} rows`);
expectType<string | undefined>((await grown.result).output("report"));

// Errors carry codes.
declare const e: unknown;
if (e instanceof FlotillaError) expectType<ErrorCode>(e.code);

// flotilla/testing
import { explore, replay, type ScheduleFailure, type ExploreReport, type ExploreContext, type ScheduleTrace, type RecordedFault } from "flotilla/testing";
const report = await explore(
  async (t) => {
    expectType<ExploreContext>(t);
    const db = t.service("db", { latencyMs: [1, 5] });
    expectType<Promise<boolean>>(db.call("get", () => true));
    expectType<Promise<number>>(db.call("count", async () => 3));
    t.invariant("ok", () => true);
    t.eventually("done", () => true, { withinSteps: 10 });
    await run(job, { runtime: t.runtime });
  },
  { iterations: 10, seed: 1, strategy: "pct", maxSteps: 100, faults: { "task.attempt": { probability: 0.1, action: { kind: "fail" } } } },
);
expectType<ExploreReport>(report);
expectType<number>(report.steps.median);
expectError(explore(async () => {}, { strategy: "dfs" }));
expectError(explore(async () => {}, { faults: { "task.attempt": { action: { kind: "explode" } } } }));
declare const failure: ScheduleFailure;
expectType<ScheduleTrace>(failure.trace);
expectType<number>(failure.trace.labelFormat);
expectType<readonly RecordedFault[]>(failure.trace.faults);
expectType<Promise<void>>(replay(async () => {}, failure));
expectType<Promise<void>>(replay(async () => {}, JSON.stringify(failure.trace)));

// Task specs type their task's output; pools take providers of any body kind.
import { inProcess, type ComputeProvider, type TaskSpec } from "flotilla";
import { providerContract, type ContractCheck } from "flotilla/testing";

interface Echo extends TaskSpec<{ text: string }> {
  readonly kind: "echo";
}
const echoSpec: Echo = { kind: "echo" };
const echoProvider: ComputeProvider<Echo> = {
  name: "echo",
  kinds: ["echo"],
  startNode: (nodeReport) => (nodeReport.lost, { id: "e", slots: 1 }),
  stopNode: () => {},
  run: (_node, body) => ({ text: body.kind }),
};
const specJob = new Job("specs")
  .task("e", { pool: "echo" }, echoSpec)
  .task("bare", echoSpec)
  .task("use", { dependsOn: ["e", "bare"] }, ({ deps, log }) => {
    expectType<{ text: string }>(deps.e);
    expectType<{ text: string }>(deps.bare);
    log("using", "stderr");
    return deps.e.text.length;
  });
const specResult = await run(specJob, { pools: { default: inProcess(), echo: echoProvider } });
expectType<{ text: string } | undefined>(specResult.output("e"));
expectType<number | undefined>(specResult.output("use"));
expectError(new Job("j").task("x", { pool: 3 }, () => 1));
expectError(run(specJob, { pools: { echo: { name: "no methods" } } }));
// A plain provider's run receives task functions.
const plain: ComputeProvider = { name: "p", startNode: () => ({ id: "p", slots: 2 }), stopNode: () => {}, run: (_n, body, ctx) => body(ctx) };
expectType<ContractCheck[]>(
  providerContract({
    provider: () => plain,
    bodies: {
      returns: (v) => () => v,
      fails: (m) => () => {
        throw new Error(m);
      },
      echoesDeps:
        () =>
        ({ deps }) =>
          deps,
      waitsForAbort:
        () =>
        ({ signal }) =>
          new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
    },
  }),
);

// The providers' subpaths: specs type outputs, providers go in pools.
import { inThread, workerThreads, workerTask } from "flotilla/worker-threads";
import { childProcess, command, CommandFailedError } from "flotilla/child-process";

const adapters = new Job("adapters")
  .task("count", { pool: "cpu" }, workerTask<number>(new URL("file:///tasks.js"), "count", { n: 3 }))
  .task("ls", { pool: "sh" }, command(["ls", "-1"]))
  .task("json", { pool: "sh", dependsOn: ["count"] }, command<{ files: number }>(["./stats.sh"], { output: "json" }))
  .task("sum", { dependsOn: ["count", "ls", "json"] }, ({ deps }) => {
    expectType<number>(deps.count);
    expectType<string>(deps.ls);
    expectType<{ files: number }>(deps.json);
    return deps.count + deps.json.files;
  });
void run(adapters, { pools: { cpu: workerThreads({ threads: 2, tasksPerThread: 4 }), sh: childProcess({ slots: 4 }) } });
expectError(workerThreads({ threads: "2" }));
void run(adapters, { pools: { cpu: inThread({ slots: 8, abandonGraceMs: 100 }), sh: childProcess({ slots: 4 }) } });
expectError(inThread({ slots: "8" }));
expectError(command("ls -1"));
expectAssignable<FlotillaError>(new CommandFailedError({} as never, "failed"));

// A dependency with onFailure "satisfy" may have failed: its output is typed `Output | undefined` in
// its dependents' deps, and `failures` is typed by the dependency ids.
new Job("satisfy")
  .task("optional", { onFailure: "satisfy" }, async () => 42)
  .task("required", () => "x")
  .task("use", { dependsOn: ["optional", "required"] }, ({ deps, failures }) => {
    expectType<number | undefined>(deps.optional);
    expectType<string>(deps.required);
    expectType<unknown>(failures.optional);
    // @ts-expect-error "other" is not a dependency
    failures.other;
    return 1;
  });
start(new Job("j").task("a", () => 1))
  .addTask("b", { onFailure: "satisfy" }, () => "b")
  .addTask("c", { dependsOn: ["b"] }, ({ deps }) => {
    expectType<string | undefined>(deps.b);
  });

// Extensions declare their own vocabulary: codes typed as literals, still FlotillaErrors.
const MY_CODES = declareErrorCodes("tsd-example", { E_QUOTA: "the cloud refused a node: quota" });
expectType<"E_QUOTA">(MY_CODES.E_QUOTA);
expectAssignable<ErrorCode>(MY_CODES.E_QUOTA);
expectType<"vm.boot">(declareFaultPoints("tsd-example", { "vm.boot": "before a VM boots" })["vm.boot"]);
expectAssignable<FlotillaError>(new FlotillaError(MY_CODES.E_QUOTA, "no quota"));

// flotilla/provider-kit
const kitNodes = new StartedNodes<ProviderNode & { readonly host: string }>("tsd");
const kitProvider: ComputeProvider<TaskSpec<string> & { kind: "echo"; text: string }> = {
  name: "tsd",
  kinds: ["echo"],
  startNode: () => kitNodes.add({ id: "n1", slots: 1, host: "h" }),
  stopNode: (node) => void kitNodes.markStopped(node),
  run: (node, spec, ctx) =>
    kitNodes.run(node, ctx, (n) => {
      expectType<string>(n.host);
      const outcome = new Outcome<string>();
      const grace = new AbortGrace({ graceMs: 10, stop: (reason) => void outcome.reject(reason), escalate: () => {} }).watch(ctx);
      outcome.onSettle(() => grace.release());
      outcome.resolve(spec.text);
      return outcome.promise;
    }),
};
expectType<string>(kitProvider.name);
expectType<Promise<number>>(new Outcome<number>().promise);
expectError(new AbortGrace({ graceMs: 10, stop: () => {} }));
