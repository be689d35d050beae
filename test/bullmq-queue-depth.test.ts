/**
 * How deep an agent's queue is (coordinator/queue-depth.ts): about 25 ms of its work by its attempts'
 * times, within [0, the pool's prefetch], told to the run through `report.prefetch(n)` only on a real
 * change. Pure: no Redis, no clock.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { QueueDepth } from "../adapters/bullmq/coordinator/queue-depth.ts";
import type { NodeReport } from "../src/index.ts";

function reported(): { report: NodeReport; told: number[] } {
  const told: number[] = [];
  return { report: { lost: () => {}, prefetch: (n) => void told.push(n) }, told };
}

describe("an agent's queue depth (bullmq prefetch by time)", () => {
  it("starts at one round (or the most allowed, if less) before any attempt's time is known", () => {
    assert.equal(new QueueDepth(8, 120, undefined).current, 8);
    assert.equal(new QueueDepth(8, 3, undefined).current, 3);
    assert.equal(new QueueDepth(8, 0, undefined).current, 0);
  });

  it("deepens for tiny attempts up to the most allowed, and empties for long ones", () => {
    const { report, told } = reported();
    const depth = new QueueDepth(8, 120, report);
    depth.measured(0.5); // 8 slots x 25 ms / 0.5 ms = 400: the most, 120
    assert.equal(depth.current, 120);
    for (let i = 0; i < 40; i++) depth.measured(1_000); // the average tends to 1 s: 8 x 25 / 1000 = 0
    assert.equal(depth.current, 0);
    assert.equal(told.at(-1), 0);
    assert.equal(told[0], 120);
  });

  it("sizes the queue at about 25 ms of the agent's work", () => {
    const { report } = reported();
    const depth = new QueueDepth(4, 1_000, report);
    for (let i = 0; i < 60; i++) depth.measured(10); // 4 x 25 / 10 = 10
    assert.equal(depth.current, 10);
  });

  it("tells the run only of a change of a quarter or more (or to nothing)", () => {
    const { report, told } = reported();
    const depth = new QueueDepth(8, 120, report);
    depth.measured(2); // 100
    depth.measured(2.1); // average 2.02: 99, within a quarter of 100
    depth.measured(2.2);
    assert.deepEqual(told, [100]);
  });

  it("with prefetch 1 (nothing queued), never tells the run anything", () => {
    const { report, told } = reported();
    const depth = new QueueDepth(8, 0, report);
    depth.measured(0.1);
    depth.measured(10_000);
    assert.deepEqual(told, []);
    assert.equal(depth.current, 0);
  });
});
