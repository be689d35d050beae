/** What every way of showing a run's progress offers the run command, and where it writes. */

/** Somewhere to write text: stdout, stderr, or a test's buffer. */
export interface Output {
  write(text: string): void;
}

/** A view of a running job: it listens to the run's events itself; the command only talks to it for these. */
export interface Progress {
  /** A message of the command's own (not a task's), such as "cancelling": shown where this view shows such things. */
  notice(line: string): void;
  /**
   * The run is over, or the command is about to exit: stop redrawing and leave the screen tidy. Harmless
   * twice. `refused`: the run's journal refused it before anything ran; lines held for that case go.
   */
  finish(refused?: boolean): void;
}
