/**
 * Job files that cannot be used: every problem of a file is reported at once in one JobFileError
 * (E_JOB_FILE), each naming the file, the path inside it (`tasks[1].dependsOn[0]`), what was expected
 * and what was found, with the line and column for YAML and JSON. Nothing here runs a task.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: job files write a range's placeholder as ${i} in plain strings
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type JobFileProblem, JobFileError, loadJobFile, validateJobFile } from "../cli/job-file/index.ts";
import { FlotillaError } from "../src/index.ts";

const fixtures = fileURLToPath(new URL("./fixtures/job-files/", import.meta.url));
const dir = realpathSync(mkdtempSync(join(tmpdir(), "flotilla-job-file-errors-")));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The JobFileError of loading `text` as the file `name` (the test fails when it loads). */
async function refused(name: string, text: string | string[]): Promise<JobFileError> {
  const path = join(dir, name);
  writeFileSync(path, Array.isArray(text) ? text.join("\n") : text);
  const error = await loadJobFile(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof JobFileError, `expected a JobFileError, got ${String(error)}`);
  assert.ok(error instanceof FlotillaError && error.code === "E_JOB_FILE");
  assert.ok(error.message.includes(name), `the message names the file:\n${error.message}`);
  return error;
}

/** The one problem at `path`, checked to appear in the message with the file name and its position. */
function problemAt(error: JobFileError, path: string): JobFileProblem {
  const found = error.problems.filter((p) => p.path === path);
  assert.equal(found.length, 1, `one problem at ${path} in:\n${error.message}`);
  const problem = found[0]!;
  const where = problem.line === undefined ? error.file : `${error.file}:${problem.line}:${problem.column}`;
  assert.ok(error.message.includes(`${where} ${path}: ${problem.message}`), `the message lists ${path}:\n${error.message}`);
  return problem;
}

const head = ["name: broken", "tasks:"];

describe("job file problems", () => {
  it("reports an unknown dependency at tasks[1].dependsOn[0] with what was expected, what was found, and the closest id", async () => {
    const error = await refused("unknown-dep.yaml", [
      ...head,
      "  - id: fetch",
      "    command: [echo]",
      "  - id: parse",
      "    command: [echo]",
      "    dependsOn: [fecth]",
    ]);
    const problem = problemAt(error, "tasks[1].dependsOn[0]");
    assert.equal(problem.message, 'expected the id of a task of this job, found "fecth" (did you mean "fetch"?)');
    assert.deepEqual([problem.line, problem.column], [7, 17]);
  });

  it("reports values of the wrong type or out of bounds: expected and found", async () => {
    const error = await refused("types.yaml", [
      "name: 3",
      "tasks:",
      "  - id: a",
      "    command: [node, 42]",
      "    retries: -1",
      "    timeoutMs: fast",
      "    onFailure: satisfied",
      "    slots: 1.5",
      "    backoff: { initialMs: 500, maxMs: 100 }",
    ]);
    assert.equal(problemAt(error, "name").message, "expected a non-empty string (the job's name), found number 3");
    assert.equal(problemAt(error, "tasks[0].command[1]").message, 'expected a string (quote numbers and true/false: "1"), found number 42');
    assert.equal(problemAt(error, "tasks[0].retries").message, "expected an integer >= 0, found number -1");
    assert.equal(problemAt(error, "tasks[0].timeoutMs").message, 'expected a number of milliseconds > 0, found string "fast"');
    assert.equal(problemAt(error, "tasks[0].onFailure").message, 'expected one of "block", "satisfy", found string "satisfied" (did you mean "satisfy"?)');
    assert.equal(problemAt(error, "tasks[0].slots").message, "expected an integer >= 1, found number 1.5");
    assert.equal(problemAt(error, "tasks[0].backoff.maxMs").message, "expected at least initialMs (500), found number 100");
    assert.equal(error.problems.length, 7);
  });

  it("reports unknown keys with the closest known one, and missing keys", async () => {
    const error = await refused("keys.yaml", ["nmae: x", "tasks:", "  - id: a", "    comand: [echo]", "  - command: [echo]", "    dependson: [a]"]);
    assert.match(
      problemAt(error, "nmae").message,
      /^unknown key "nmae" \(did you mean "name"\?\); expected one of: \$schema, name, description, defaults, pools, tasks$/,
    );
    assert.match(problemAt(error, "tasks[0].comand").message, /^unknown key "comand" \(did you mean "command"\?\)/);
    assert.match(problemAt(error, "tasks[1].dependson").message, /^unknown key "dependson" \(did you mean "dependsOn"\?\)/);
    assert.equal(problemAt(error, "name").message, "missing: expected a non-empty string (the job's name)");
    assert.equal(problemAt(error, "tasks[1].id").message, "missing: expected a non-empty task id");
    // The unknown key is pointed at by its own line.
    assert.equal(problemAt(error, "tasks[0].comand").line, 4);
  });

  it("reports a duplicate id at the second task, naming the first", async () => {
    const error = await refused("dup.yaml", [...head, "  - { id: a, command: [echo] }", "  - { id: b, command: [echo] }", "  - { id: a, command: [echo] }"]);
    assert.equal(problemAt(error, "tasks[2].id").message, 'expected a unique task id, found "a" again (first declared by tasks[0])');
  });

  it("prints a dependency cycle's whole path, at the dependency of its first task that closes it", async () => {
    const error = await refused("cycle.yaml", [
      ...head,
      "  - { id: a, command: [echo], dependsOn: [c] }",
      "  - { id: b, command: [echo], dependsOn: [a] }",
      "  - { id: c, command: [echo], dependsOn: [x, b] }",
      "  - { id: x, command: [echo] }",
    ]);
    const problem = error.problems.find((p) => p.message.includes("cycle"));
    assert.ok(problem, error.message);
    assert.match(
      problem.message,
      /^expected no dependency cycle, found (a -> c -> b -> a|b -> a -> c -> b|c -> b -> a -> c) \(each task depends on the next\)$/,
    );
    // The path starts at a task and points at the entry naming the next one in the cycle.
    const [first, second] = /found (\w) -> (\w)/.exec(problem.message)!.slice(1) as [string, string];
    const entries: Record<string, string[]> = { a: ["c"], b: ["a"], c: ["x", "b"] };
    const index = ["a", "b", "c"].indexOf(first);
    assert.equal(problem.path, `tasks[${index}].dependsOn[${entries[first]!.indexOf(second)}]`);
    assert.ok(error.message.includes(problem.message));
  });

  it("finds a cycle even when the file has other problems", async () => {
    const error = await refused("cycle-and-more.yaml", [...head, "  - { id: a, command: [echo], dependsOn: [a], retries: -1 }"]);
    assert.equal(problemAt(error, "tasks[0].dependsOn[0]").message, "expected no dependency cycle, found a -> a (each task depends on the next)");
    problemAt(error, "tasks[0].retries");
  });

  it("reports an unknown pool with the closest name, a pool that cannot run the task's kind, and slots wider than the pool's nodes", async () => {
    const error = await refused("pools.yaml", [
      "name: pools",
      "pools:",
      "  sh: { provider: processes, slots: 2 }",
      "  cpu: { provider: threads, tasksPerThread: 4 }",
      "tasks:",
      "  - { id: a, command: [echo], pool: shh }",
      "  - { id: b, command: [echo], pool: cpu }",
      "  - { id: c, command: [echo], pool: sh, slots: 3 }",
    ]);
    assert.equal(problemAt(error, "tasks[0].pool").message, 'expected the name of a pool of the file (sh, cpu), found "shh" (did you mean "sh"?)');
    assert.equal(problemAt(error, "tasks[1].pool").message, 'expected a pool that runs commands (provider processes or cloud), found "cpu" (provider threads)');
    assert.equal(problemAt(error, "tasks[2].slots").message, 'expected at most 2 (the slots of one node of pool "sh"), found number 3');
  });

  it("checks each pool by its provider: an unknown provider, an unknown key, bounds that disagree", async () => {
    const error = await refused("pool-decls.yaml", [
      "name: p",
      "pools:",
      "  a: { provider: proceses }",
      "  b: { provider: threads, thread: 2 }",
      "  c: { provider: cloud, maxNodes: 2, minNodes: 3, startLatencyMs: { min: 10, max: 5 } }",
      "  d: 7",
      "tasks:",
      "  - { id: t, command: [echo], pool: c }",
    ]);
    assert.equal(
      problemAt(error, "pools.a.provider").message,
      'expected one of "processes", "threads", "cloud", found string "proceses" (did you mean "processes"?)',
    );
    assert.match(problemAt(error, "pools.b.thread").message, /^unknown key "thread" \(did you mean "threads"\?\)/);
    assert.equal(problemAt(error, "pools.c.minNodes").message, "expected at most maxNodes (2), found number 3");
    assert.equal(problemAt(error, "pools.c.startLatencyMs.max").message, "expected an integer number of milliseconds >= min (10), found number 5");
    assert.match(problemAt(error, "pools.d").message, /^expected an object \{ provider, … \} .*, found number 7$/);
  });

  it("reports a worker module that does not exist, with the path it looked at", async () => {
    const error = await refused("worker.yaml", [...head, "  - id: w", "    worker: { module: ./nowhere.mjs, export: run }"]);
    assert.equal(
      problemAt(error, "tasks[0].worker.module").message,
      `expected an existing module file, found "./nowhere.mjs" (there is no file ${join(dir, "nowhere.mjs")})`,
    );
  });

  it("reports a task that is neither a command nor a worker, or both, and command keys on a worker", async () => {
    const worker = `{ module: ${join(fixtures, "tasks.mjs")} }`;
    const error = await refused("kinds.yaml", [
      ...head,
      "  - { id: none }",
      `  - { id: both, command: [echo], worker: ${worker} }`,
      `  - { id: w, worker: ${worker}, env: { A: b } }`,
      '  - { id: s, command: "echo hi" }',
    ]);
    assert.match(problemAt(error, "tasks[0]").message, /^missing: expected "command" .* or "worker"/);
    assert.equal(problemAt(error, "tasks[1]").message, 'expected either "command" or "worker", found both');
    assert.equal(problemAt(error, "tasks[2].env").message, 'expected no "env" on a worker task (it is for commands), found object {"A":"b"}');
    assert.match(problemAt(error, "tasks[3].command").message, /found string "echo hi" \(a single string is a shell line: add shell: true\)$/);
  });

  it("reports range mistakes once per template, with how many of its tasks have them", async () => {
    const error = await refused("ranges.yaml", [
      ...head,
      "  - { id: prep-1, command: [echo] }",
      "  - id: shard-${i}",
      "    range: { from: 1, to: 5 }",
      "    command: [echo, '${i}']",
      '    dependsOn: ["prep-${i}"]',
      "  - { id: nothing, range: { from: 1, to: 2 }, command: [echo] }",
      '  - { id: "back-${i}", range: { from: 3, to: 1 }, command: [echo] }',
      '  - { id: all, command: [echo], dependsOn: ["shard-[1..7]"] }',
      '  - { id: "lone-${i}", command: [echo] }',
    ]);
    assert.equal(
      problemAt(error, "tasks[1].dependsOn[0]").message,
      'expected the id of a task of this job, found "prep-2" (did you mean "prep-1"?) (and in 3 more tasks of its range)',
    );
    assert.equal(problemAt(error, "tasks[2].id").message, 'expected an id with ${i} in it (a range makes one task per i), found "nothing"');
    assert.equal(problemAt(error, "tasks[3].range.to").message, "expected an integer >= from (3), found number 1");
    assert.equal(
      problemAt(error, "tasks[4].dependsOn[0]").message,
      'expected a range of ids of this job, found "shard-[1..7]", which names tasks the job does not have: shard-6, shard-7',
    );
    assert.match(problemAt(error, "tasks[5].id").message, /\$\{i\} in an id needs a range/);
  });

  it("collects every problem of a file in one error, in the file's order", async () => {
    const error = await loadJobFile(join(fixtures, "many-problems.yaml")).then(
      () => assert.fail("loaded"),
      (e: unknown) => e as JobFileError,
    );
    assert.deepEqual(
      error.problems.map((p) => p.path),
      ["pools.cpu.threds", "tasks[0].retries", "tasks[1].worker.module", "tasks[1].dependsOn[0]", "tasks[1].pool", "tasks[2].id", "tasks[3].slots"],
    );
    assert.match(
      error.message,
      /^job file test\/fixtures\/job-files\/many-problems\.yaml has 7 problems:\n {2}test\/fixtures\/job-files\/many-problems\.yaml:5:29 /,
    );
    // validateJobFile refuses the same way.
    await assert.rejects(validateJobFile(join(fixtures, "many-problems.yaml")), (e: unknown) => e instanceof JobFileError && e.problems.length === 7);
  });

  it("reports YAML and JSON syntax errors with their line and column", async () => {
    const yaml = await refused("syntax.yaml", ["name: x", "tasks:", "  - id: a", "    command: [echo, hi", "  - id: b"]);
    assert.equal(yaml.problems.length >= 1, true);
    assert.match(yaml.problems[0]!.message, /^invalid YAML: /);
    assert.ok(yaml.problems[0]!.line !== undefined && yaml.problems[0]!.line >= 4, yaml.message);
    assert.match(yaml.message, /syntax\.yaml:\d+:\d+: invalid YAML/);

    const duplicate = await refused("dup-key.yaml", ["name: x", "name: y", "tasks: []"]);
    assert.match(duplicate.message, /dup-key\.yaml:2:1: invalid YAML: Map keys must be unique/);

    // In a flow mapping an unquoted ${i} opens a mapping: the message says to quote it.
    const flow = await refused("flow.yaml", ["name: x", "tasks:", "  - { id: shard-${i}, range: { from: 1, to: 2 }, command: [echo] }"]);
    assert.equal(flow.problems.length, 1, flow.message);
    assert.match(flow.message, /flow\.yaml:3:\d+: invalid YAML: .*; a value with \$\{i\} inside \{ \} or \[ \] must be quoted: "shard-\$\{i\}"/);

    // JSON is parsed as JSON (YAML would take 'a'); V8 names the token, not always its position.
    const json = await refused("syntax.json", ['{ "name": "x",', '  "tasks": [', "    { \"id\": 'a' }", "  ]", "}"]);
    assert.match(json.message, /syntax\.json(:\d+:\d+)?: invalid JSON: /);
  });

  it("gives JSON problems their line and column too", async () => {
    const error = await refused("pos.json", ["{", '  "name": "x",', '  "tasks": [', '    { "id": "a", "command": ["echo"], "retries": "two" }', "  ]", "}"]);
    assert.deepEqual([problemAt(error, "tasks[0].retries").line, problemAt(error, "tasks[0].retries").column], [4, 50]);
  });

  it("refuses a missing file, an unknown extension, and a module that exports no job", async () => {
    const missing = await loadJobFile(join(dir, "absent.yaml")).catch((e: unknown) => e as JobFileError);
    assert.ok(missing instanceof JobFileError);
    assert.match(missing.message, /absent\.yaml: cannot read the file: /);
    const ext = await refused("job.toml", "name = 'x'");
    assert.match(ext.message, /job\.toml: expected a job file ending in \.yaml, \.yml, \.json, \.mjs/);
    const none = await refused("empty.mjs", "export const other = 1;\n");
    assert.match(none.message, /empty\.mjs: expected a default export \(or an export named "job"\) .*, found none/);
    const throws = await refused("throws.mjs", "throw new Error('boom at import');\n");
    assert.match(throws.message, /throws\.mjs: the module could not be loaded: boom at import/);
    assert.equal((throws.cause as Error).message, "boom at import");
    const object = await refused("object.mjs", "export default { name: 'm', tasks: [{ id: 'a', command: ['echo'], retry: 1 }] };\n");
    // A module's problems have paths but no positions.
    assert.equal(problemAt(object, "tasks[0].retry").line, undefined);
  });

  it("refuses a module whose Job cannot run: an unknown dependency, named by core", async () => {
    const error = await refused(
      "bad-job.mjs",
      `import { Job } from ${JSON.stringify(new URL("../src/index.ts", import.meta.url).href)};\nexport default new Job("j").task("a", { dependsOn: ["b"] }, () => 1);\n`,
    );
    assert.match(error.message, /bad-job\.mjs: the exported job "j" cannot run: task "a" depends on unknown task "b"/);
  });

  it("refuses a module whose exported pools cannot run its tasks", async () => {
    const src = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    const error = await refused(
      "unfit-pools.mjs",
      [
        `import { Job } from ${src("../src/index.ts")};`,
        `import { childProcess } from ${src("../adapters/child-process/index.ts")};`,
        'export default new Job("j").task("f", { pool: "sh" }, () => 1).task("g", { pool: "cpu" }, () => 2);',
        'export const pools = { sh: childProcess(), cpu: { provider: "threads" } };',
      ].join("\n"),
    );
    assert.equal(
      problemAt(error, "pools.sh").message,
      'expected a provider that runs the job\'s tasks of kind "function", found "child-process" (kinds command)',
    );
    assert.equal(problemAt(error, "pools.cpu").message, 'expected a pool that runs the job\'s tasks of kind "function", found provider threads');
  });
});
