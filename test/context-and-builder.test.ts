/**
 * What a user can touch is a contract: the context a body receives holds only its documented members
 * (writing to it cannot break the run), the builder says which argument is wrong, and options given
 * as null are refused instead of silently becoming the defaults.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Job, isFlotillaError, run } from "../src/index.ts";

const invalid = (pattern: RegExp) => (e: unknown) => isFlotillaError(e, "E_INVALID_OPTION") && pattern.test((e as Error).message);

describe("the task context", () => {
  it("lists no bookkeeping of the run, and a body writing to it cannot stop the run from settling", async () => {
    let keys: string[] = [];
    const result = await run(
      new Job("j")
        .task("a", (ctx) => {
          keys = Object.keys(ctx);
          for (const name of ["decided", "released", "windingDown", "timer", "keeper", "pool", "task"])
            (ctx as unknown as Record<string, unknown>)[name] = true;
          return Promise.resolve(1);
        })
        .task("b", { dependsOn: ["a"] }, ({ deps }) => deps.a + 1),
    );
    assert.deepEqual(keys, []);
    assert.equal(result.status, "succeeded");
    assert.equal(result.output("b"), 2);
  });

  it("offers every documented member, also destructured", async () => {
    const result = await run(
      new Job("j").task("a", ({ taskId, attempt, signal, deps, failures, node, sleep, onAbort, log }) => {
        onAbort(() => {})();
        log("hello");
        return [taskId, attempt, signal.aborted, deps, failures, node.id, typeof sleep].join(",");
      }),
    );
    assert.equal(result.output("a"), "a,1,false,[object Object],[object Object],in-process,function");
  });
});

describe("the builder and run options name what is wrong", () => {
  it('task("a", 5) says the body is wrong, not the options', () => {
    assert.throws(() => new Job("j").task("a", 5 as never), invalid(/^task "a": the body must be a function .*received number 5$/));
    assert.throws(() => new Job("j").task("a", null as never), invalid(/the body must be .*received null$/));
    assert.throws(() => new Job("j").task("a", { retries: 1 } as never), invalid(/the body must be .*received undefined$/));
  });

  it("task() adds to the job it is called on and returns that same job", () => {
    const j1 = new Job("j");
    const j2 = j1.task("a", () => 1);
    assert.equal(j1, j2);
    assert.equal(j1.size, 1);
  });

  for (const option of ["runtime", "provider", "signal", "pools", "concurrency", "cancelGraceMs", "maxNodeLosses", "failFast"]) {
    it(`run option ${option}: null is refused, not taken for the default`, async () => {
      await assert.rejects(
        run(
          new Job("j").task("a", () => 1),
          { [option]: null } as never,
        ),
        invalid(new RegExp(`"${option}"`)),
      );
    });
  }
});

describe("a run's result, logged or stored", () => {
  it("JSON.stringify(result) includes every task (also one named __proto__) and readable errors", async () => {
    const result = await run(new Job("j").task("a", () => 1).task("__proto__", () => Promise.reject(new Error("no"))));
    const json = JSON.parse(JSON.stringify(result));
    assert.equal(json.status, "failed");
    assert.deepEqual(Object.keys(json.tasks), ["a", "__proto__"]);
    assert.equal(json.tasks.a.output, 1);
    assert.equal(json.tasks.a.status, "succeeded");
    assert.deepEqual(Object.getOwnPropertyDescriptor(json.tasks, "__proto__")!.value.error, { name: "Error", message: "no" });
    assert.deepEqual(json.error, { name: "Error", message: "no" });
  });

  it("JSON.stringify(result) never throws on an odd thrown value (a throwing message getter, a BigInt, a revoked proxy)", async () => {
    const odd = new Error("x");
    Object.defineProperty(odd, "message", {
      get: () => {
        throw new Error("no message");
      },
    });
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const result = await run(
      new Job("j")
        .task("a", () => Promise.reject(odd))
        .task("b", () => Promise.reject(10n))
        .task("c", () => Promise.reject(revoked.proxy)),
    );
    const json = JSON.parse(JSON.stringify(result));
    assert.equal(json.tasks.a.error.name, "Error");
    assert.equal(json.tasks.b.error, "10");
    assert.equal(typeof json.tasks.c.error, "string");
  });

  it("console.log(result) shows the tasks as a Map", async () => {
    const { inspect } = await import("node:util");
    const result = await run(new Job("j").task("a", () => 1));
    assert.match(inspect(result.tasks), /Map\(1\) \{\s*'a' => \{/);
    assert.match(inspect(result), /tasks: Map\(1\)/);
  });
});
