/** How the command writes durations, errors and bars: the same in the live view, plain lines and the summary. */
import { messageOf } from "../src/errors.ts";

/** `340ms`, `1.2s`, `2m05s`, `1h02m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1_000);
  if (seconds < 3_600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** An error's message (a thrown value's string form), whole. */
export function errorText(error: unknown): string {
  return messageOf(error);
}

/** The first line of an error's message: for one-line logs (the summary shows it whole). */
export function errorLine(error: unknown): string {
  const text = messageOf(error);
  const end = text.indexOf("\n");
  return end === -1 ? text : `${text.slice(0, end)} …`;
}

/** A bar `width` cells wide, `fraction` of it filled. */
export function bar(fraction: number, width: number): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
}

/** Cuts a line to `width` columns (counting code points; task ids are rarely wide characters). */
export function clip(line: string, width: number): string {
  const chars = [...line];
  return chars.length <= width ? line : `${chars.slice(0, Math.max(0, width - 1)).join("")}…`;
}
