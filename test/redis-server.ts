/**
 * A real redis-server for tests and benches: Debian's package (installed by .ci/run), started on a free
 * loopback port with nothing persisted, ready when it says so on stdout (never a sleep), stopped by its pid.
 * Runs under Node and Deno (node:net and node:child_process only).
 *
 * @example
 * const redis = await startRedisServer();
 * try {
 *   const client = new Redis(redis.url);
 *   // ...
 *   await redis.restart(); // same port, empty data: nothing is saved
 * } finally {
 *   await redis.stop();
 * }
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import { tmpdir } from "node:os";

/** One running redis-server. */
export interface RedisServer {
  /** The loopback port it listens on; the same after restart(). */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`, for ioredis and BullMQ connections. */
  readonly url: string;
  /** The pid of the current process (a new one after restart()). */
  readonly pid: number;
  /** SIGTERM, SIGKILL after `stopGraceMs`, and resolves once the process has exited. Calling it twice is fine. */
  stop(): Promise<void>;
  /** stop() then a new redis-server on the same port; resolves when it accepts connections. Its data is gone. */
  restart(): Promise<void>;
}

export interface RedisServerOptions {
  /** The program to run. @default "redis-server" */
  command?: string;
  /** How long to wait for "Ready to accept connections" before failing. @default 15000 */
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. @default 5000 */
  stopGraceMs?: number;
  /** How many free ports to try when another process takes the chosen one first (EADDRINUSE). @default 5 */
  portAttempts?: number;
  /**
   * More redis-server arguments, after the harness' own (a later one wins), e.g. `["--requirepass", "s3cret"]`;
   * or a function of the chosen port, for arguments that name it (TLS: `(port) => ["--port", "0", "--tls-port", String(port), ...]`).
   * @default []
   */
  args?: readonly string[] | ((port: number) => readonly string[]);
}

const READY_LINE = "Ready to accept connections";
const PORT_TAKEN = "Address already in use";
/** Lines of redis' output kept for error messages. */
const KEPT_LINES = 40;

/** Whether a `redis-server` program can be run here (Debian's package; .ci/run installs it). */
export function hasRedisServer(command = "redis-server"): boolean {
  try {
    execFileSync(command, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Starts a redis-server on a free loopback port; resolves when it accepts connections. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const settings = {
    command: options.command ?? "redis-server",
    startTimeoutMs: options.startTimeoutMs ?? 15_000,
    stopGraceMs: options.stopGraceMs ?? 5_000,
    portAttempts: options.portAttempts ?? 5,
    args: options.args ?? [],
  };
  // redis has no `--port 0`: ask the kernel for a free port, release it, and hand it to redis. Another
  // process may take it in between; then redis exits with "Address already in use" and we try another.
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < settings.portAttempts; attempt++) {
    const port = await freeLoopbackPort();
    try {
      const child = await spawnRedis(port, settings);
      return new RunningRedis(port, child, settings);
    } catch (error) {
      if (!(error instanceof PortTakenError)) throw error;
      lastError = error;
    }
  }
  throw new Error(`startRedisServer: ${settings.portAttempts} free ports were all taken before redis-server could bind them`, { cause: lastError });
}

type Settings = Required<RedisServerOptions>;

class RunningRedis implements RedisServer {
  readonly port: number;
  readonly url: string;
  readonly #settings: Settings;
  #child: ChildProcess | undefined;
  #pid: number;

  constructor(port: number, child: ChildProcess, settings: Settings) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.#settings = settings;
    this.#child = child;
    this.#pid = child.pid as number;
    live.add(this);
  }

  get pid(): number {
    return this.#pid;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    live.delete(this);
    await stopChild(child, this.#settings.stopGraceMs);
  }

  async restart(): Promise<void> {
    await this.stop();
    // The same port on purpose (clients reconnect to it); redis sets SO_REUSEADDR, so the old
    // connections in TIME_WAIT do not block it. If another process took the port meanwhile, this fails.
    const child = await spawnRedis(this.port, this.#settings);
    this.#child = child;
    this.#pid = child.pid as number;
    live.add(this);
  }

  /** For the exit hook only: a synchronous last-resort kill. */
  killNow(): void {
    this.#child?.kill("SIGKILL");
  }
}

/** Servers not yet stopped: killed if the test process exits without stopping them, so none outlives it. */
const live = new Set<RunningRedis>();
process.on("exit", () => {
  for (const server of live) server.killNow();
});

class PortTakenError extends Error {}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error(`freeLoopbackPort: unexpected address ${String(address)}`))));
    });
  });
}

/** Spawns redis-server on `port` and resolves once it prints its ready line. */
function spawnRedis(port: number, settings: Settings): Promise<ChildProcess> {
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--protected-mode",
    "no",
    // Nothing persisted: a restart starts empty, and nothing is written into the repository.
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    tmpdir(),
    "--daemonize",
    "no",
    "--loglevel",
    "notice",
    ...(typeof settings.args === "function" ? settings.args(port) : settings.args),
  ];
  const child = spawn(settings.command, args, { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let partial = "";
  const keep = (chunk: Buffer) => {
    const parts = (partial + chunk.toString("utf8")).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      if (lines.length > KEPT_LINES) lines.shift();
    }
    return parts;
  };
  // stderr is drained too, for the same reason as stdout below: a full pipe would block redis.
  child.stderr?.on("data", keep);

  return new Promise((resolve, reject) => {
    const describeOutput = () => (lines.length === 0 ? "(no output)" : lines.join("\n"));
    const settle = (error?: Error) => {
      clearTimeout(timer);
      child.off("error", onError);
      child.off("exit", onExit);
      child.stdout?.off("data", onData);
      // Keep reading its output for as long as it runs: redis logs (e.g. on a client's connection errors)
      // and would block on a full pipe.
      child.stdout?.on("data", keep);
      if (error === undefined) resolve(child);
      else reject(error);
    };
    const onData = (chunk: Buffer) => {
      if (keep(chunk).some((line) => line.includes(READY_LINE))) settle();
    };
    const onError = (error: Error) => settle(new Error(`startRedisServer: cannot run ${settings.command}: ${error.message}`, { cause: error }));
    const onExit = (code: number | null, signal: string | null) => {
      const output = describeOutput();
      if (output.includes(PORT_TAKEN)) settle(new PortTakenError(`port ${port} is taken`));
      else settle(new Error(`startRedisServer: ${settings.command} on port ${port} exited (${signal ?? `code ${code}`}) before it was ready:\n${output}`));
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      settle(
        new Error(
          `startRedisServer: ${settings.command} on port ${port} did not print "${READY_LINE}" within ${settings.startTimeoutMs} ms:\n${describeOutput()}`,
        ),
      );
    }, settings.startTimeoutMs);
    child.once("error", onError);
    child.once("exit", onExit);
    child.stdout?.on("data", onData);
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
