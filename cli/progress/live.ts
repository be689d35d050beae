/**
 * Progress on a terminal: a few lines redrawn in place (log-update), at most ten times a second, with
 * the tasks' output lines and the command's notices printed above them. The timer that redraws is
 * cleared by finish(), which leaves the last frame on screen.
 */
import { createLogUpdate } from "log-update";
import type { RunHandle } from "../../src/run.ts";
import { renderFrame } from "./frame.ts";
import type { Output, Progress } from "./progress.ts";
import { RunTally } from "./tally.ts";

const REDRAW_MS = 100;

type Terminal = NodeJS.WriteStream;

/**
 * The terminal as log-update sees it: its size from `stream`, its writes through `out`. Some terminals
 * (and a pseudo-terminal nobody sized) report 0 columns or rows; log-update would then draw nothing at
 * all, so those read as 80 x 24.
 */
function sized(stream: Terminal, out: Output): NodeJS.WriteStream {
  return {
    isTTY: true,
    get columns() {
      return stream.columns || 80;
    },
    get rows() {
      return stream.rows || 24;
    },
    write: (text: string) => out.write(text),
  } as unknown as NodeJS.WriteStream;
}

export class LiveProgress implements Progress {
  readonly #tally = new RunTally();
  readonly #stream: Terminal;
  readonly #draw: ReturnType<typeof createLogUpdate>;
  readonly #now: () => number;
  /** Lines to print above the frame at the next redraw. */
  #above: string[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(handle: RunHandle<any>, options: { stream: Terminal; out: Output; quiet: boolean; now?: () => number }) {
    this.#stream = options.stream;
    this.#draw = createLogUpdate(sized(options.stream, options.out));
    this.#now = options.now ?? Date.now;
    this.#tally.listen(handle);
    if (!options.quiet) handle.on("task:output", (e) => void this.#above.push(`[${e.taskId}] ${e.line}`));
    // The first frame as soon as the run starts, so even a short run shows it.
    handle.on("job:start", () => this.#redraw());
    // Events only change the tally; the frame is drawn on this beat (the clock moves between events
    // too), and log-update writes only the lines that changed.
    this.#timer = setInterval(() => this.#redraw(), REDRAW_MS);
  }

  notice(line: string): void {
    this.#above.push(line);
    this.#redraw();
  }

  finish(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#redraw();
    this.#draw.done();
  }

  #redraw(): void {
    if (this.#above.length > 0) {
      // persist() erases the frame, writes the lines, and the frame is drawn again below them.
      this.#draw.persist(this.#above.join("\n"));
      this.#above = [];
    }
    if (this.#tally.startedAt === undefined) return; // nothing to show before the run starts
    this.#draw(renderFrame(this.#tally, this.#now(), this.#width()));
  }

  #width(): number {
    return (this.#stream.columns || 80) - 1;
  }
}
