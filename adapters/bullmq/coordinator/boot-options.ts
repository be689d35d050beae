/**
 * The `boot` option of `bullmq()`: how a pool boots its own agents on VMs (see boot.ts), and its check.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FlotillaError, describe } from "../../../src/errors.ts";
import type { CommandSpec } from "../../../src/provider-kit/body-specs.ts";
import type { VmDriver } from "../../../src/provider-kit/index.ts";

/** How a `bullmq()` pool boots its own agents. */
export interface BootOptions {
  /** Makes the VMs; they must run `command` bodies (`localVms()` does). */
  readonly driver: VmDriver<CommandSpec<any>>;
  /** Attempts each booted agent runs at once (`--concurrency`). @default 1 */
  readonly concurrency?: number;
  /** The Redis URL the agents connect to (given as FLOTILLA_REDIS_URL). @default the provider's `connection` when it is a URL */
  readonly redisUrl?: string;
  /** The modules folder on the VM (`--modules`). @default the provider's `modules` folder */
  readonly modules?: string;
  /** More flags for `flotilla agent` (e.g. `["--lease-ms", "1000"]`). @default [] */
  readonly args?: readonly string[];
  /**
   * The agent's command line on a VM, if not this machine's Node running this package's `flotilla`
   * (e.g. `["npx", "flotilla"]` on a VM image with flotilla installed). The agent flags are appended.
   */
  readonly command?: readonly string[];
}

export interface ResolvedBoot {
  readonly driver: VmDriver<CommandSpec<any>>;
  readonly concurrency: number;
  readonly redisUrl: string;
  readonly modules: string | undefined;
  readonly args: readonly string[];
  readonly command: readonly string[];
}

/** Checks `boot` (E_INVALID_OPTION naming what is wrong). */
export function resolveBoot(where: string, boot: unknown, connection: unknown, modules: string | undefined): ResolvedBoot | undefined {
  if (boot === undefined) return undefined;
  const bad = (what: string, value: unknown) => new FlotillaError("E_INVALID_OPTION", `${where}: boot.${what}, received ${describe(value)}`);
  if (typeof boot !== "object" || boot === null) throw bad("must be an object ({ driver, ... })", boot);
  const b = boot as Record<string, unknown>;
  const driver = b.driver as VmDriver<CommandSpec<any>> | undefined;
  if (
    typeof driver !== "object" ||
    driver === null ||
    typeof driver.create !== "function" ||
    typeof driver.run !== "function" ||
    typeof driver.delete !== "function"
  ) {
    throw bad("driver must be a VmDriver ({ name, create, delete, list, run }; e.g. localVms() from flotilla/cloud-vm)", driver);
  }
  if (driver.kinds !== undefined && !driver.kinds.includes("command"))
    throw bad(`driver must run "command" bodies (its kinds: ${driver.kinds.join(", ")})`, driver.name);
  const concurrency = b.concurrency ?? 1;
  if (!(Number.isInteger(concurrency) && (concurrency as number) >= 1)) throw bad("concurrency must be an integer >= 1", concurrency);
  const redisUrl = b.redisUrl ?? (typeof connection === "string" ? connection : undefined);
  if (typeof redisUrl !== "string" || !/^rediss?:\/\//.test(redisUrl)) {
    throw bad(
      "redisUrl must be the redis:// or rediss:// URL the agents use (needed when connection is not a URL)",
      redisUrl === undefined ? undefined : "(not a Redis URL)",
    );
  }
  const args = b.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) throw bad("args must be an array of strings", args);
  const command = b.command ?? [process.execPath, flotillaBin()];
  if (!Array.isArray(command) || command.length === 0 || !command.every((a) => typeof a === "string" && a.length > 0))
    throw bad("command must be a non-empty array of strings", command);
  const folder = b.modules ?? (modules === undefined ? undefined : fileURLToPath(modules));
  if (folder !== undefined && (typeof folder !== "string" || folder.length === 0)) throw bad("modules must be a folder's path", folder);
  return { driver, concurrency: concurrency as number, redisUrl, modules: folder as string | undefined, args, command };
}

/** bin/flotilla.mjs of this package: found by walking up from this module (source, or a chunk of dist/). */
function flotillaBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "flotilla") return join(dir, "bin", "flotilla.mjs");
      } catch {
        // not ours: keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new FlotillaError("E_INVALID_OPTION", "bullmq(): boot.command is needed: this package's bin/flotilla.mjs was not found");
    dir = up;
  }
}
