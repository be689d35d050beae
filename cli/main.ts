/**
 * The `flotilla` command: `flotilla run FILE` runs a job file with live progress and a summary,
 * `flotilla validate FILE` checks one, `flotilla agent` runs a remote agent of flotilla/bullmq. bin/flotilla.mjs calls `main` from the build (dist/cli.js); this
 * module and what it imports (commander, log-update, cli-table3) load only when the command runs,
 * never with `import "flotilla"`.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { agentCommandOptions, type RawAgentFlags } from "./agent-options.ts";
import { runCommand } from "./commands/run.ts";
import { validate } from "./commands/validate.ts";
import { EXIT, describeError, exitCodeOfError } from "./exit-codes.ts";
import { stderr, stdout } from "./io.ts";
import { DEFAULT_GRACE_MS, runCommandOptions, type RawRunFlags } from "./options.ts";

/**
 * The package's version: package.json is one folder up from cli/main.ts, and two from the build's chunk
 * of this module (dist/chunks/: the build splits it out, as the agent command is imported on demand).
 */
function version(): string {
  const url = new URL("../package.json", import.meta.url);
  const path = /\/dist\/chunks\/[^/]*$/.test(import.meta.url) ? new URL("../../package.json", import.meta.url) : url;
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
}

function program(done: (code: number) => void): Command {
  const flotilla = new Command("flotilla")
    .description("Run a job file: tasks with dependencies, in parallel, on the pools it names.")
    .version(version(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show this help")
    // Errors come back here instead of exiting, so they get the command's exit codes (2 for usage).
    .exitOverride()
    .configureOutput({ writeOut: (text) => stdout.write(text), writeErr: (text) => stderr.write(text) })
    .showHelpAfterError("(flotilla --help shows the usage)")
    .addHelpText(
      "after",
      "\nExit codes: 0 succeeded, 1 a task failed, 2 invalid job file or options, 130 cancelled (Ctrl-C, SIGTERM).\n" +
        "Ctrl-C (or SIGTERM) once cancels the run gracefully; twice kills what is still running.",
    );

  flotilla
    .command("run")
    .description("run a job file, with live progress on a terminal and a summary at the end")
    .argument("<file>", "the job file (a module whose default export is a Job, with its pools in a `pools` export)")
    .option("-c, --concurrency <n>", "most attempts running at once (a whole number >= 1, or Infinity)")
    .option("--fail-fast", "cancel everything at the first task that fails for good")
    .option("--json", "write every run event as one JSON object per line on stdout, and nothing else there")
    .option("--grace <ms>", `how long cancelled tasks get to stop before they are abandoned (default: ${DEFAULT_GRACE_MS})`)
    .option(
      "--dry-run",
      "simulate the job: print whether the plan succeeds, its makespan, peak nodes per pool and cost; run nothing (exit 1 when a task would not succeed)",
    )
    .option("-q, --quiet", "hide the tasks' output lines")
    .addOption(new Option("--journal <path>", "record the run in a journal; run again to resume it"))
    .addOption(new Option("--trace <file>", "write the run's trace to a file"))
    .addOption(new Option("--report <file>", "write an HTML report of the run to a file"))
    .action(async (file: string, flags: RawRunFlags) => done(await runCommand(runCommandOptions(file, flags))));

  flotilla
    .command("agent")
    .description("run a remote agent of flotilla/bullmq: pull attempts from Redis and run them here")
    .option(
      "--redis <url>",
      "Redis: redis://[user:password@]host:port[/db] or rediss:// (default: $FLOTILLA_REDIS_URL, which keeps a password off the command line)",
    )
    .option("--queue <name>", "the queue name of the coordinator's bullmq() pool")
    .option("-c, --concurrency <n>", "attempts run at once (default: the number of CPUs)")
    .option("--modules <dir>", "the folder worker modules may be run from (without it, only commands run)")
    .option("--name <id>", "the agent's id (default: host name, pid and 4 random characters)")
    .option("--prefix <prefix>", "BullMQ's key prefix (default: bull)")
    .option("--allow-shell", "let commands ask for a shell (off by default: a command runs its argv only)")
    .option(
      "--in-thread",
      "run worker modules in the agent's own thread, not in worker threads: faster for tiny tasks, for trusted modules only (a module that blocks blocks the agent; one that ignores its cancel cannot be stopped)",
    )
    .option("--max-payload-bytes <n>", "largest attempt payload accepted (default: 1048576)")
    .option("--max-output-bytes <n>", "largest output sent back (default: 1048576)")
    .option("--lease-ms <ms>", "the agent's heartbeat lease in Redis (default: 5000)")
    .option("--json", "write every agent event as one JSON object per line on stdout")
    .action(async (flags: RawAgentFlags) => {
      const options = agentCommandOptions(flags, process.env);
      // Read once; the worker threads and commands the agent runs do not inherit its password.
      delete process.env.FLOTILLA_REDIS_URL;
      // Loaded on demand: bullmq and ioredis are needed by this command only.
      const { agentCommand } = await import("./commands/agent.ts");
      done(await agentCommand(options));
    });

  flotilla
    .command("validate")
    .description("check a job file (its tasks, dependencies and pools) without running it")
    .argument("<file>", "the job file")
    .action(async (file: string) => done(await validate(file)));
  return flotilla;
}

/** Runs the command with `argv` (the arguments after `flotilla`) and resolves with its exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.invalid;
  try {
    await program((c) => (code = c)).parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    // Commander has already printed its message (and the help hint); --help and --version exit 0.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.succeeded : EXIT.invalid;
    stderr.write(`${describeError(error)}\n`);
    return exitCodeOfError(error);
  }
}
