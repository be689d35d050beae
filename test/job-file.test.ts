/**
 * Job files (cli/job-file): YAML, JSON and module job files load into a Job with its pools and run for
 * real (child processes and worker threads), ranges expand, a command finds its dependencies' outputs
 * in $FLOTILLA_DEPS_FILE, paths are relative to the file, and a task without a pool gets one by the
 * documented rules. Runs under Node and Deno; every process and thread ends with its run.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { JobFileError, loadJobFile, validateJobFile } from "../cli/job-file/index.ts";
import { errorCodes, isFlotillaError, run } from "../src/index.ts";

const examples = fileURLToPath(new URL("../examples/jobs/", import.meta.url));
const fixtures = fileURLToPath(new URL("./fixtures/job-files/", import.meta.url));
const dir = realpathSync(mkdtempSync(join(tmpdir(), "flotilla-job-file-")));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a job file into the test's folder and returns its path. */
function jobFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("job files that load and run", () => {
  it("runs the YAML example: eight shards from one range, each reading prepare's output, merged by a range of ids", async () => {
    const loaded = await loadJobFile(join(examples, "shards.yaml"));
    assert.equal(loaded.name, "shards");
    assert.equal(loaded.file, join(examples, "shards.yaml"));
    assert.deepEqual(loaded.poolNames, ["sh"]);
    assert.equal(loaded.job.size, 10);
    assert.ok(loaded.job.has("shard-1") && loaded.job.has("shard-8") && !loaded.job.has("shard-9"));
    const result = await run(loaded.job, { pools: loaded.makePools() });
    assert.equal(result.status, "succeeded", String(result.error));
    assert.deepEqual(result.output("shard-3"), { shard: 3, count: 30 });
    assert.equal(result.output("merge"), "merged 8 shards: 360 items");
  });

  it("runs the JSON example: a command, worker tasks on a threads pool, a report reading both", async () => {
    const loaded = await loadJobFile(join(examples, "word-count.json"));
    assert.deepEqual(loaded.poolNames, ["sh", "cpu"]);
    const result = await run(loaded.job, { pools: loaded.makePools() });
    assert.equal(result.status, "succeeded", String(result.error));
    assert.deepEqual(result.output("count"), { words: 13, distinct: 10 });
    assert.equal(result.output("report"), "13 words, 10 distinct, longest: quick");
  });

  it("loads a module whose default export is a job file object, its worker module relative to the module", async () => {
    const loaded = await loadJobFile(join(fixtures, "job-object.mjs"));
    assert.equal(loaded.name, "from-module");
    // The commands get an implicit "processes" pool: the file declares only threads.
    assert.deepEqual(loaded.poolNames, ["cpu", "processes"]);
    const result = await run(loaded.job, { pools: loaded.makePools() });
    assert.equal(result.status, "succeeded", String(result.error));
    // A whole "${i}" in a worker's input becomes the number: 1 + 4 + 9, plus seven's 7, plus input.add 1.
    assert.equal(result.output("square-3"), 9);
    assert.equal(result.output("total"), 22);
  });

  it("loads a module that exports a flotilla Job, with its declared pools and an in-process pool for its functions", async () => {
    const loaded = await loadJobFile(join(fixtures, "job-instance.mjs"));
    assert.equal(loaded.name, "instance");
    assert.deepEqual(loaded.poolNames, ["sh", "default"]);
    const result = await run(loaded.job, { pools: loaded.makePools() });
    assert.equal(result.status, "succeeded", String(result.error));
    assert.equal(result.output("shout"), "HELLO!");
  });

  it("uses the provider objects a Job module exports in pools as they are", async () => {
    const loaded = await loadJobFile(join(fixtures, "job-providers.mjs"));
    assert.deepEqual(loaded.poolNames, ["sh", "default"]);
    const pools = loaded.makePools();
    assert.equal(pools.sh!.name, "child-process");
    const result = await run(loaded.job, { pools });
    assert.equal(result.output("product"), 6);
    // The dry run models it as its nodes, each as wide as its tasks need.
    const report = await loaded.dryRun();
    assert.equal(report.makespanMs, 3_000);
    assert.equal(report.pools.sh!.provider, "custom");
  });

  it("loads a TypeScript module whose export named job is a job file object", async () => {
    const path = jobFile(
      "job.ts",
      'export const job = { name: "typed", tasks: [{ id: "a", command: ["node", "-e", "console.log(40 + 2)"], output: "json" as const }] };\n',
    );
    const loaded = await loadJobFile(path);
    const result = await run(loaded.job, { pools: loaded.makePools() });
    assert.equal(result.output("a"), 42);
  });

  it("validateJobFile counts the tasks with ranges expanded and names the pools, running nothing", async () => {
    assert.deepEqual(await validateJobFile(join(examples, "shards.yaml")), { tasks: 10, pools: ["sh"] });
    assert.deepEqual(await validateJobFile(join(fixtures, "job-object.mjs")), { tasks: 5, pools: ["cpu", "processes"] });
  });

  it("runs commands in the job file's folder by default, with cwd and env of the task and of defaults", async () => {
    writeFileSync(join(dir, "marker.txt"), "here");
    mkdirSync(join(dir, "sub"), { recursive: true });
    const path = jobFile(
      "env-cwd.yaml",
      [
        "name: env-cwd",
        "defaults:",
        "  env: { GREETING: hello, WHO: everyone }",
        "tasks:",
        "  - id: read",
        "    command: [node, -e, \"console.log(require('node:fs').readFileSync('marker.txt', 'utf8'))\"]",
        "  - id: greet",
        "    env: { WHO: world }",
        "    cwd: sub/..",
        "    command: [node, -e, \"console.log(process.env.GREETING + ' ' + process.env.WHO + ' from ' + process.cwd())\"]",
        "  - id: line",
        "    shell: true",
        '    command: "echo $GREETING | tr a-z A-Z"',
      ].join("\n"),
    );
    const loaded = await loadJobFile(path);
    assert.deepEqual(loaded.poolNames, ["processes"]);
    const result = await run(loaded.job, { pools: loaded.makePools() });
    assert.equal(result.status, "succeeded", String(result.error));
    assert.equal(result.output("read"), "here");
    assert.equal(result.output("greet"), `hello world from ${dir}`);
    assert.equal(result.output("line"), "HELLO");
  });

  it("gives a command its dependencies' outputs and satisfied failures in the file $FLOTILLA_DEPS_FILE names", async () => {
    const path = jobFile(
      "deps.yaml",
      [
        "name: deps",
        "tasks:",
        "  - id: numbers",
        '    command: [node, -e, "console.log(JSON.stringify([1, 2, 3]))"]',
        "    output: json",
        "  - id: broken",
        '    command: [node, -e, "process.exit(3)"]',
        "    onFailure: satisfy",
        "  - id: use",
        "    dependsOn: [numbers, broken]",
        "    command:",
        "      - node",
        "      - -e",
        "      - |",
        "        const { deps, failures } = JSON.parse(require('node:fs').readFileSync(process.env.FLOTILLA_DEPS_FILE, 'utf8'));",
        "        console.log(JSON.stringify({ deps, failed: Object.keys(failures), code: failures.broken.code }));",
        "    output: json",
      ].join("\n"),
    );
    const loaded = await loadJobFile(path);
    const result = await run(loaded.job, { pools: loaded.makePools() });
    assert.deepEqual(result.output("use"), { deps: { numbers: [1, 2, 3] }, failed: ["broken"], code: "E_COMMAND_FAILED" });
  });

  it("sends a task without a pool to defaults.pool, else the one pool of its kind, and refuses to guess between two", async () => {
    const two = ["name: two", "pools:", "  a: { provider: processes }", "  b: { provider: processes }", "tasks:"];
    const guessed = await loadJobFile(jobFile("guess.yaml", [...two, "  - { id: x, command: [echo] }"].join("\n"))).catch((e: unknown) => e);
    assert.ok(guessed instanceof JobFileError);
    assert.match(guessed.message, /tasks\[0\]: missing "pool": expected one of the pools that run commands \(a, b\)/);
    const named = await loadJobFile(
      jobFile("named.yaml", [...two.slice(0, 4), "defaults: { pool: b }", "tasks:", "  - { id: x, command: [echo] }"].join("\n")),
    );
    assert.deepEqual(named.poolNames, ["a", "b"]);
    const cloudOnly = await loadJobFile(
      jobFile("cloud-only.yaml", ["name: c", "pools:", "  vms: { provider: cloud }", "tasks:", "  - { id: x, command: [echo] }"].join("\n")),
    );
    assert.deepEqual(cloudOnly.poolNames, ["vms"]);
  });

  it("refuses a cloud pool in a real run with E_JOB_FILE, and leaves out a cloud pool no task uses", async () => {
    const path = jobFile(
      "cloud.yaml",
      [
        "name: cloud",
        "pools:",
        "  sh: { provider: processes }",
        "  vms: { provider: cloud, maxNodes: 4 }",
        "tasks:",
        "  - { id: x, command: [echo], pool: vms }",
      ].join("\n"),
    );
    const loaded = await loadJobFile(path);
    const error = (() => {
      try {
        loaded.makePools();
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof JobFileError && isFlotillaError(error, "E_JOB_FILE"), String(error));
    assert.equal(error.problems[0]!.path, "pools.vms.provider");
    assert.equal(error.problems[0]!.line, 4);
    assert.match(error.message, /cloud\.yaml:4:\d+ pools\.vms\.provider: pool "vms" is a simulated cloud .*--dry-run/);

    const unused = await loadJobFile(
      jobFile(
        "cloud-unused.yaml",
        ["name: c", "pools:", "  sh: { provider: processes }", "  vms: { provider: cloud }", "tasks:", "  - { id: x, command: [echo] }"].join("\n"),
      ),
    );
    assert.deepEqual(Object.keys(unused.makePools()), ["sh"]);
  });

  it("declares E_JOB_FILE as the command line's own code", () => {
    assert.equal(errorCodes().get("E_JOB_FILE")?.owner, "flotilla/cli");
  });
});
