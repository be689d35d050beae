import { expectAssignable, expectError, expectType } from "tsd";
import { Job, inProcess, pool, run, start, type Pool, type PoolMetrics, type PoolRunStats, type PoolStats, type PoolTargets, type RunEvent } from "flotilla";
import { simulatedCloud, virtualRuntime } from "flotilla/testing";
import { cloudVm } from "flotilla/cloud-vm";

const runtime = virtualRuntime();
const render = pool(cloudVm({ driver: simulatedCloud({ runtime }) }), {
  minNodes: 0,
  maxNodes: 50,
  slotsPerNode: 4,
  lowPriority: { maxNodes: 200 },
  idleTimeoutMs: 120_000,
  placement: "pack",
  onScaleDown: "requeue",
  runtime,
  autoscale: (m) => {
    expectType<PoolMetrics>(m);
    expectType<number>(m.ready.slots);
    expectType<number>(m.nodes.lowPriority.busy);
    return { dedicated: Math.ceil(m.ready.slots / 4), lowPriority: 0 };
  },
});
expectType<Pool>(render);
expectError(pool(inProcess(), { placement: "random" }));
expectError(pool(inProcess(), { onScaleDown: "kill" }));
expectError(pool(inProcess(), { autoscale: () => ({ dedicated: 1 }) }));

const job = new Job("j").task("a", { pool: "render", slots: 2 }, () => 1);
expectError(new Job("j").task("a", { slots: "2" }, () => 1));
const result = await run(job, { pools: { render, cpu: inProcess() }, runtime, priority: 10, maxPreemptions: 3 });
expectType<PoolRunStats | undefined>(result.pools.render);
expectAssignable<{ peakNodes: number; nodeSeconds: number; cost: number; preemptions: number; startFailures: number; utilization: number }>(
  result.pools.render!,
);

expectType<PoolStats>(render.stats());
expectType<PoolTargets>(render.evaluate({ ready: { tasks: 40, slots: 80 } }));
render.on("pool:resize", (e) => {
  expectType<number>(e.dedicated);
  expectType<string>(e.reason);
});
expectError(render.on("pool:nonsense", () => {}));
expectType<Promise<void>>(render.close());

start(job, { pools: { render }, runtime }).on("node:preempted", (e) => {
  expectType<string>(e.nodeId);
  expectAssignable<RunEvent>(e);
});
