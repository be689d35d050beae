/** The builder's id index against a Map: any mix of adds, lookups, removals and copies answers alike. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { IdIndex, hashId } from "../src/id-index.ts";
import { Job } from "../src/index.ts";
import { seededRandom } from "../src/testing/index.ts";

/** Applies seeded operations to an index and a Map side by side, checking every answer. */
function againstMap(seed: number, idOf: (k: number) => string, keys: number): void {
  const random = seededRandom(seed);
  let index = new IdIndex();
  let model = new Map<string, number>();
  let order: string[] = [];
  const check = () => {
    assert.equal(index.size, model.size, `seed ${seed}: size`);
    assert.deepEqual(index.ids, order, `seed ${seed}: ids in insertion order`);
    for (let k = 0; k < keys; k++) {
      const id = idOf(k);
      assert.equal(index.get(id), model.get(id), `seed ${seed}: get(${JSON.stringify(id)})`);
      assert.equal(index.has(id), model.has(id), `seed ${seed}: has(${JSON.stringify(id)})`);
    }
  };
  for (let step = 0; step < 400; step++) {
    const r = random();
    if (r < 0.7) {
      const id = idOf(Math.floor(random() * keys));
      const hash = hashId(id);
      if (index.find(id, hash) >= 0) continue;
      assert.equal(index.add(id, hash), order.length);
      model.set(id, order.length);
      order.push(id);
    } else if (r < 0.9 && order.length > 0) {
      const id = order.pop()!;
      assert.equal(index.removeLast(), id);
      model.delete(id);
    } else {
      const count = Math.floor(random() * (order.length + 1));
      index = index.copy(count);
      order = order.slice(0, count);
      model = new Map(order.map((id, i) => [id, i]));
    }
    if (step % 25 === 0) check();
  }
  check();
}

describe("the id index", () => {
  it("answers as a Map would through adds, removals of the last id and copies (200 seeded cases)", () => {
    for (let seed = 1; seed <= 200; seed++) againstMap(seed, (k) => `t${k}`, 300);
  });

  it("tells ids apart by every code unit: case, lone surrogates, empty-looking and prototype names", () => {
    const odd = ["a", "A", "\u{1F600}", "\uD83D", "\uDE00", " ", "a ", "__proto__", "constructor", "toString", "hasOwnProperty", "0", "-0", "00"];
    for (let seed = 1; seed <= 20; seed++) againstMap(seed, (k) => odd[k % odd.length]! + (k >= odd.length ? String(k) : ""), 60);
  });

  it("stays right when ids are chosen to collide (they move to a Map past a long probe)", () => {
    // Ids whose hashes share their low 12 bits all want the same slot of any table up to 4096 slots.
    const colliding: string[] = [];
    const target = hashId("c0") & 0xfff;
    for (let k = 0; colliding.length < 300; k++) if ((hashId(`c${k}`) & 0xfff) === target) colliding.push(`c${k}`);
    for (let seed = 1; seed <= 5; seed++) againstMap(seed, (k) => colliding[k % colliding.length]!, 300);
  });

  it("answers undefined / false for values that are not strings", () => {
    const index = new IdIndex();
    index.add("1", hashId("1"));
    for (const value of [1, undefined, null, {}, ["1"], Symbol("1")]) {
      assert.equal(index.get(value), undefined);
      assert.equal(index.has(value), false);
    }
    assert.equal(new Job("j").task("1", () => 1).has(1 as never), false);
  });

  it("backs a large job: 50,000 tasks, each found by id", () => {
    const job = new Job<Record<string, number>>("big");
    for (let i = 0; i < 50_000; i++) job.task(`task-${i}`, i === 0 ? {} : { dependsOn: [`task-${i - 1}`] }, () => i);
    assert.equal(job.size, 50_000);
    for (let i = 0; i < 50_000; i += 997) assert.ok(job.has(`task-${i}`));
    assert.ok(!job.has("task-50000"));
  });
});
