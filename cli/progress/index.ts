/** Picks how a run's progress is shown: JSON lines, a live view on a terminal, or plain lines for logs. */
import type { RunHandle } from "../../src/run.ts";
import { JsonProgress } from "./json.ts";
import { LiveProgress } from "./live.ts";
import { PlainProgress } from "./plain.ts";
import type { Output, Progress } from "./progress.ts";

export type { Output, Progress } from "./progress.ts";

export type ProgressMode = "json" | "live" | "plain";

/** `--json` wins; otherwise live on a terminal that can redraw, plain lines anywhere else. */
export function progressMode(options: { json: boolean }, stdout: { isTTY?: boolean }, env: Record<string, string | undefined>): ProgressMode {
  if (options.json) return "json";
  return stdout.isTTY === true && env.TERM !== "dumb" ? "live" : "plain";
}

export function showProgress(mode: ProgressMode, handle: RunHandle<any>, options: { quiet: boolean; out: Output; err: Output; journal?: boolean }): Progress {
  if (mode === "json") return new JsonProgress(handle, options);
  if (mode === "live") return new LiveProgress(handle, { stream: process.stdout, out: options.out, quiet: options.quiet });
  return new PlainProgress(handle, { ...options, holdUntilUnderWay: options.journal === true });
}
