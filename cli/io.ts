/**
 * The command's two outputs. When the reader of one goes away (`flotilla run job.mjs | head -1`), writes
 * to it are dropped instead of crashing the command with EPIPE: the run goes on to its end, as it would
 * with its output sent to a file, and its exit code still says how it ended.
 */
import type { Output } from "./progress/progress.ts";

function guarded(stream: NodeJS.WriteStream): Output {
  let open = true;
  let watching = false;
  return {
    write(text) {
      if (!watching) {
        watching = true;
        // Without a listener, a write error (EPIPE: the reader is gone) would crash the command.
        stream.on("error", () => void (open = false));
      }
      if (open) stream.write(text);
    },
  };
}

export const stdout: Output = guarded(process.stdout);
export const stderr: Output = guarded(process.stderr);
