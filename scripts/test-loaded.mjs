#!/usr/bin/env node
/**
 * `npm run test:loaded`: the whole `npm test` while every core is kept busy by other processes, the way a
 * shared CI machine often is. Tests that only pass on an idle machine (a race won by luck, a timeout
 * that assumes speed) show up here.
 *
 * One busy-loop process per core (or --busy N). They stop when the run ends, however it ends: on exit, on
 * SIGINT/SIGTERM, and (because each loop checks that its parent is still the process that started it) even
 * when this script is killed outright. Arguments after the flags go to scripts/test-all.mjs.
 *
 * Usage: node scripts/test-loaded.mjs [--busy N] [test-all arguments ...]
 */
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
let busy = availableParallelism();
const i = args.indexOf("--busy");
if (i !== -1) {
  busy = Number(args[i + 1]);
  args.splice(i, 2);
  if (!Number.isInteger(busy) || busy < 0) {
    console.error(`test-loaded: --busy must be a whole number, received ${JSON.stringify(process.argv[process.argv.indexOf("--busy") + 1])}`);
    process.exit(2);
  }
}

// Spins in 100 ms slices and exits as soon as its parent is gone (it is then re-parented).
const loop = `const parent = ${process.pid}; for (;;) { const end = Date.now() + 100; while (Date.now() < end); if (process.ppid !== parent) process.exit(0); }`;
const loops = Array.from({ length: busy }, () => spawn(process.execPath, ["-e", loop], { stdio: "ignore" }));
const stopLoops = () => {
  for (const child of loops) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
};
process.on("exit", stopLoops);

console.log(`test-loaded: ${busy} busy-loop process(es) on ${availableParallelism()} core(s): ${loops.map((c) => c.pid).join(", ")}`);
const started = Date.now();
const suite = spawn(process.execPath, [fileURLToPath(new URL("./test-all.mjs", import.meta.url)), ...args], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) {
  // test-all stops its stages on the same signal; wait for it to report, then exit (which stops the loops).
  process.on(signal, () => suite.kill(signal));
}
suite.on("close", (code, signal) => {
  stopLoops();
  console.log(`test-loaded: the suite took ${((Date.now() - started) / 1000).toFixed(1)} s with ${busy} busy-loop process(es)`);
  process.exit(code ?? (signal ? 1 : 0));
});
