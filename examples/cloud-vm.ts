/**
 * The same task definitions on "VMs": cloudVm() over localVms(), whose VMs are local processes running
 * a flotilla agent. The prime-count chunks of worker-threads.ts (workerTask bodies, from
 * worker-tasks.mjs) and a command (a command() body) run on two VMs; then one VM is killed mid-job,
 * and its attempt is requeued on a fresh VM. Last, a fake cloud that throttles its API shows the retry
 * after `retryAfterMs`, on a virtual clock: ten minutes of waiting take no time.
 */
import { Job, run, start } from "flotilla";
import { cloudVm, localVms } from "flotilla/cloud-vm";
import { command } from "flotilla/child-process";
import { vmThrottled, type VmDriver, type VmInfo } from "flotilla/provider-kit";
import { virtualRuntime } from "flotilla/testing";
import { workerTask } from "flotilla/worker-threads";

const tasks = new URL("./worker-tasks.mjs", import.meta.url);
const LIMIT = 200_000;

// 1. Worker modules and a command, on two local VMs.
let job = new Job<Record<string, number | string>>("primes-on-vms");
const chunks: string[] = [];
for (let i = 0; i < 4; i++) {
  chunks.push(`chunk${i}`);
  job = job.task(`chunk${i}`, workerTask<number>(tasks, "countPrimes", { from: (i * LIMIT) / 4, to: ((i + 1) * LIMIT) / 4 }));
}
job = job
  .task("total", { dependsOn: chunks }, workerTask<number>(tasks, "total"))
  .task(
    "report",
    { dependsOn: ["total"] },
    command(['echo "primes below 200000: $(grep -o \'"total":[0-9]*\' "$FLOTILLA_DEPS_FILE" | cut -d: -f2)"'], { shell: true }),
  );
const driver = localVms();
const result = await run(job, { pools: { default: cloudVm({ driver, maxNodes: 2 }) } });
console.log(`${result.status}: ${result.output("report")} (${(await driver.list()).length} VMs left)`);

// 2. A VM killed under an attempt: the attempt is requeued on a fresh VM, without spending a retry.
const killer = localVms();
const handle = start(new Job("survive").task("slow", workerTask<string>(tasks, "waitForAbort")), {
  pools: { default: cloudVm({ driver: killer }) },
});
handle.on("task:start", async (e) => {
  if (e.attempt > 1) {
    handle.cancelTask("slow", "the demo is over");
    return;
  }
  const [vm] = await killer.list();
  if (vm?.pid !== undefined) process.kill(vm.pid, "SIGKILL");
});
handle.on("task:requeued", (e) => console.log(`requeued ${e.taskId}: ${e.error instanceof Error ? e.error.message.replace(/\(pid \d+\) /, "") : e.error}`));
const survived = await handle.result;
console.log(`then: slow ${survived.tasks.get("slow").status} on its second VM (${(await killer.list()).length} VMs left)`);

// 3. A cloud API that throttles: retried after the retryAfterMs it asks for, on the pool's (virtual) clock.
const vms = new Map<string, VmInfo>();
let calls = 0;
const throttling: VmDriver = {
  name: "throttling-cloud",
  create: async (request) => {
    if (++calls === 1) throw vmThrottled("Rate exceeded", 600_000);
    const vm: VmInfo = { id: `vm-${calls}`, name: request.name, priority: request.priority, state: "running" };
    vms.set(vm.id, vm);
    return vm;
  },
  delete: async (id) => void vms.delete(id),
  list: async () => [...vms.values()],
  run: (_vm, body, ctx) => body(ctx),
};
const clock = virtualRuntime();
const provider = cloudVm({ driver: throttling });
const node = await provider.startNode({ lost: () => {}, runtime: clock });
console.log(`throttled create retried: node ${node.id} after ${clock.now() / 60_000} virtual minutes`);
await provider.stopNode(node);
