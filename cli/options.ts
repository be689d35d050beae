/** The options of `flotilla run`, checked once, with the messages a user sees for a bad value. */
import { FlotillaError } from "../src/errors.ts";
import { MAX_TIMER_MS } from "../src/validation.ts";

/** `flotilla run FILE [flags]`, as the command runs it. */
export interface RunCommandOptions {
  /** The job file (or job module), as given. */
  readonly file: string;
  /** `--concurrency N`: most attempts at once. @default Infinity (the pools' slots bound it) */
  readonly concurrency: number;
  /** `--fail-fast`: cancel everything at the first task that fails for good. @default false */
  readonly failFast: boolean;
  /** `--json`: one JSON object per run event on stdout, nothing else there. @default false */
  readonly json: boolean;
  /** `--grace MS`: how long a cancelled attempt may take to stop (the run's cancelGraceMs). @default 5000 */
  readonly graceMs: number;
  /** `--dry-run`: simulate the job instead of running it. @default false */
  readonly dryRun: boolean;
  /** `--quiet`: hide the tasks' output lines. @default false */
  readonly quiet: boolean;
  /** `--journal PATH`: record the run in this file journal, and resume from it. */
  readonly journal: string | undefined;
  /** `--trace FILE`: write the run's Chrome trace-event / Perfetto JSON there. */
  readonly trace: string | undefined;
  /** `--report FILE`: write the HTML timeline report there. */
  readonly report: string | undefined;
}

export const DEFAULT_GRACE_MS = 5_000;

/** What commander hands the run action: every flag's raw value. */
export interface RawRunFlags {
  concurrency?: string;
  failFast?: boolean;
  json?: boolean;
  grace?: string;
  dryRun?: boolean;
  quiet?: boolean;
  journal?: string;
  trace?: string;
  report?: string;
}

function badFlag(flag: string, expected: string, received: string): FlotillaError {
  return new FlotillaError("E_INVALID_OPTION", `${flag} must be ${expected}, received ${JSON.stringify(received)}`);
}

/** `--concurrency`: a whole number of at least 1, or "Infinity". */
export function parseConcurrency(text: string): number {
  if (/^infinity$/i.test(text.trim())) return Infinity;
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < 1) throw badFlag("--concurrency", "a whole number >= 1 (or Infinity)", text);
  return value;
}

/** `--grace`: milliseconds, from 0 to the longest timer. */
export function parseGraceMs(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
    throw badFlag("--grace", `a number of milliseconds from 0 to ${MAX_TIMER_MS}`, text);
  }
  return value;
}

/**
 * `--dry-run` executes nothing, so there is no run to journal (nothing to resume later) and no run to
 * trace or report: combined with those flags it is refused rather than silently ignoring them.
 */
function checkDryRunFlags(flags: RawRunFlags): void {
  if (flags.dryRun !== true) return;
  const given = (["journal", "trace", "report"] as const).filter((flag) => flags[flag] !== undefined).map((flag) => `--${flag}`);
  if (given.length > 0) {
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `--dry-run cannot be combined with ${given.join(", ")}: a dry run executes nothing, so there is no run to journal, trace or report (leave out --dry-run to run the job, or leave out ${given.join(", ")})`,
    );
  }
}

export function runCommandOptions(file: string, flags: RawRunFlags): RunCommandOptions {
  checkDryRunFlags(flags);
  return {
    file,
    concurrency: flags.concurrency === undefined ? Infinity : parseConcurrency(flags.concurrency),
    failFast: flags.failFast === true,
    json: flags.json === true,
    graceMs: flags.grace === undefined ? DEFAULT_GRACE_MS : parseGraceMs(flags.grace),
    dryRun: flags.dryRun === true,
    quiet: flags.quiet === true,
    journal: flags.journal,
    trace: flags.trace,
    report: flags.report,
  };
}
