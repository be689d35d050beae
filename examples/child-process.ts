/**
 * Command lines as tasks, run as child processes two at a time: outputs as text and JSON, a command
 * reading its dependencies' outputs from FLOTILLA_DEPS_FILE, live output lines, a failing command
 * with its exit code and stderr, and a timed-out one whose whole process group is killed.
 */
import { Job, start } from "flotilla";
import { CommandFailedError, childProcess, command } from "flotilla/child-process";

const node = process.execPath; // any program works; node keeps the example portable
const summarise = `
  const { deps } = JSON.parse(require("node:fs").readFileSync(process.env.FLOTILLA_DEPS_FILE, "utf8"));
  console.log("words=" + deps.words + " files=" + deps.stats.files);`;

const job = new Job("report")
  .task("words", command(["sh", "-c", "printf 'alpha beta\\ngamma\\n' | wc -w | tr -d ' '"]))
  .task("stats", command<{ files: number }>([node, "-e", "console.log(JSON.stringify({ files: 3 }))"], { output: "json" }))
  .task("summary", { dependsOn: ["words", "stats"] }, command([node, "-e", summarise]))
  .task("lint", command(["sh", "-c", "echo 'src/a.ts: unused variable' >&2; exit 3"]))
  // `sleep 30 &` is a child of the shell: the timeout kills both (SIGTERM to the process group).
  .task("slow", { timeoutMs: 200 }, command(["sh", "-c", "sleep 30 & wait"]));

const handle = start(job, { provider: childProcess({ slots: 2 }) });
handle.on("task:output", (e) => console.log(`  [${e.taskId} ${e.stream}] ${e.line}`));
const result = await handle.result;

console.log(`summary: ${result.output("summary")}`);
const lint = result.tasks.get("lint").error;
if (lint instanceof CommandFailedError) console.log(`lint failed with exit code ${lint.exitCode}: ${lint.stderrTail}`);
const slow = result.tasks.get("slow").error as { code?: string } | undefined;
console.log(`slow: ${slow?.code} (its shell and sleep were killed)`);
console.log(`${result.status}: ${result.counts.succeeded} succeeded, ${result.counts.failed} failed`);
