/** The command's two outputs. */
import type { Output } from "./progress/progress.ts";

export const stdout: Output = { write: (text) => void process.stdout.write(text) };
export const stderr: Output = { write: (text) => void process.stderr.write(text) };
