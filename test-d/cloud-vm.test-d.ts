import { expectAssignable, expectError, expectType } from "tsd";
import { Job, run, type FlotillaError, type ComputeProvider, type TaskContext } from "flotilla";
import { vmThrottled, type VmDriver, type VmInfo } from "flotilla/provider-kit";
import {
  cloudVm,
  localVms,
  VmTaskFailedError,
  CLOUD_VM_ERROR_CODES,
  type LocalVmInfo,
  type LocalVmBody,
  type VmNode,
  type CloudVmOptions,
} from "flotilla/cloud-vm";
import { workerTask } from "flotilla/worker-threads";
import { command } from "flotilla/child-process";

// A driver of function bodies makes a provider of function bodies.
declare const functions: VmDriver;
const fnProvider = cloudVm({ driver: functions, maxNodes: 4, slotsPerVm: 2, maxConcurrentCalls: 2, rateLimit: { intervalMs: 1_000, callsPerInterval: 10 } });
expectAssignable<ComputeProvider>(fnProvider);
void run(
  new Job("fns").task("a", ({ node }) => node.id),
  { pools: { default: fnProvider } },
);

// localVms runs the same specs as workerThreads and childProcess, typed outputs included.
const driver = localVms({ slots: 2, env: { A: "1" }, killGraceMs: 100, terminateGraceMs: 200 });
expectAssignable<VmDriver<LocalVmBody>>(driver);
expectType<Promise<readonly LocalVmInfo[]>>(driver.list());
const vms = cloudVm({ driver, maxNodes: 3 });
expectAssignable<ComputeProvider<LocalVmBody>>(vms);
const job = new Job("local")
  .task("count", workerTask<number>(new URL("file:///tasks.js"), "count", { n: 3 }))
  .task("ls", command(["ls", "-1"]))
  .task("sum", { dependsOn: ["count", "ls"], pool: "fn" }, ({ deps }) => {
    expectType<number>(deps.count);
    expectType<string>(deps.ls);
    return deps.count + deps.ls.length;
  });
void run(job, { pools: { default: vms, fn: fnProvider } });

// A node keeps its VmInfo.
declare const vmNode: VmNode;
expectType<VmInfo>(vmNode.vm);
expectType<string>(vmNode.id);

// Options are typed.
expectError(cloudVm({}));
expectError(cloudVm({ driver, maxNodes: "3" }));
expectError(cloudVm({ driver, rateLimit: { intervalMs: 1_000 } }));
expectError(localVms({ slots: "2" }));
expectError(localVms({ env: { A: 1 } }));
expectAssignable<CloudVmOptions>({ driver: functions });

// Errors.
expectAssignable<FlotillaError>(new VmTaskFailedError({ failure: "exit", taskId: "t", attempt: 1, vmId: "vm" }, "failed"));
expectType<"E_VM_TASK_FAILED">(CLOUD_VM_ERROR_CODES.E_VM_TASK_FAILED);
expectType<number | undefined>(vmThrottled("slow down", 1_000).retryAfterMs);

// A driver written by hand meets the contract.
const handMade: VmDriver<(ctx: TaskContext) => unknown> = {
  name: "hand-made",
  create: async (request) => ({ id: request.name, name: request.name, priority: request.priority, state: "running" }),
  delete: async () => {},
  list: async () => [],
  run: (_vm, body, ctx) => body(ctx),
};
void cloudVm({ driver: handMade });
