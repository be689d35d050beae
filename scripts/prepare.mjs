#!/usr/bin/env node
/**
 * package.json "prepare": builds dist/ when npm installs flotilla from git.
 *
 * npm installs a git dependency by cloning it, installing its dev dependencies, running its "prepare"
 * script and packing the result; it does not run "prepack" there, so without this the package would be
 * empty. npm also runs "prepare" on every plain `npm install` / `npm ci` in this repository and during
 * `npm pack` (after "prepack" has built): those start from this directory, so INIT_CWD (where npm was
 * started) is the package itself, and nothing is done. A broken build therefore never fails `npm ci`;
 * `npm test` reports it with the other stages.
 */
import { spawnSync } from "node:child_process";
import { realpathSync } from "node:fs";

const startedIn = process.env.INIT_CWD;
if (startedIn && realpathSync(startedIn) !== realpathSync(process.cwd())) {
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ["npm"];
  const { status, error } = spawnSync(npm[0], [...npm.slice(1), "run", "build"], { stdio: "inherit" });
  if (error) throw error;
  process.exit(status ?? 1);
}
