/** The ready queue against a plain sort: any mix of pushes and pops comes out in key order. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ReadyQueue } from "../src/ready-queue.ts";
import { seededRandom } from "../src/testing/index.ts";

describe("the ready queue", () => {
  it("pops by priority, then rank, then index, whatever order tasks were pushed in (500 seeded cases)", () => {
    for (let seed = 1; seed <= 500; seed++) {
      const random = seededRandom(seed);
      const n = 1 + Math.floor(random() * 60);
      const priority = Array.from({ length: n }, () => Math.floor(random() * 3));
      const rank = Array.from({ length: n }, () => Math.floor(random() * 3));
      const queue = new ReadyQueue(priority, rank);
      const waiting: number[] = [];
      // Mostly increasing indices (runs), sometimes shuffled, with pops in between.
      const order = Array.from({ length: n }, (_, i) => i);
      if (random() < 0.5) order.sort(() => random() - 0.5);
      const popped: number[] = [];
      const expectNext = () => {
        waiting.sort((a, b) => priority[b]! - priority[a]! || rank[b]! - rank[a]! || a - b);
        const want = waiting.shift()!;
        const got = queue.pop();
        assert.equal(got, want, `seed ${seed}: popped ${got}, expected ${want}`);
        popped.push(got);
      };
      for (const task of order) {
        queue.push(task);
        waiting.push(task);
        if (random() < 0.3) expectNext();
      }
      while (waiting.length > 0) expectNext();
      assert.equal(queue.pop(), -1);
      assert.equal(queue.size, 0);
      assert.equal(popped.length, n);
    }
  });

  it("reorders queued tasks after their keys change", () => {
    const priority = [0, 0, 0, 0];
    const rank = [0, 0, 0, 0];
    const queue = new ReadyQueue(priority, rank);
    for (const t of [0, 1, 2, 3]) queue.push(t);
    priority[2] = 5;
    rank[3] = 1;
    queue.reorder();
    assert.deepEqual([queue.pop(), queue.pop(), queue.pop(), queue.pop()], [2, 3, 0, 1]);
  });
});
