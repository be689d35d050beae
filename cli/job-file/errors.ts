/**
 * The error of a job file: its declared code (E_JOB_FILE) and the error that carries every problem
 * found in one file, each with its path inside the file (`tasks[3].dependsOn[1]`), its message and,
 * for YAML and JSON files, its line and column. The command prints the message and exits 2.
 */
import { FlotillaError } from "../../src/errors.ts";
import { declareErrorCodes } from "../../src/vocabulary.ts";

/** The codes of the command line's job files, declared as its own (see `errorCodes()` from flotilla). */
export const JOB_FILE_ERROR_CODES = declareErrorCodes("flotilla/cli", {
  E_JOB_FILE:
    "a job file could not be read, is not valid, or asks for what its run cannot do (a cloud pool outside a dry run); the JobFileError lists every problem with its path in the file",
});

/** One thing wrong with a job file. */
export interface JobFileProblem {
  /** Where in the file, as `tasks[3].dependsOn[1]` or `pools.sh.slots`; "" for the file as a whole. */
  readonly path: string;
  /** What was wrong: what was expected and what was found. */
  readonly message: string;
  /** 1-based line of the value (YAML and JSON files; absent for modules). */
  readonly line?: number;
  /** 1-based column of the value. */
  readonly column?: number;
}

/**
 * A job file that cannot be used (code `E_JOB_FILE`). `problems` lists everything found in the file,
 * not only the first; the message lists them too, one a line, each as `file:line:column path: message`.
 *
 * @example
 * try { await loadJobFile("nightly.yaml") } catch (e) { if (e instanceof JobFileError) for (const p of e.problems) console.error(p.path, p.message) }
 */
export class JobFileError extends FlotillaError {
  /** The job file, as it is named in the message (relative to the current directory when inside it). */
  readonly file: string;
  readonly problems: readonly JobFileProblem[];

  constructor(file: string, problems: readonly JobFileProblem[], options?: { cause?: unknown }) {
    super(JOB_FILE_ERROR_CODES.E_JOB_FILE, formatProblems(file, problems), options);
    this.file = file;
    this.problems = Object.freeze(problems.map((p) => Object.freeze({ ...p })));
  }

  override get name(): string {
    return "JobFileError";
  }
}

/** `job file nightly.yaml has 2 problems:` then one line per problem, each naming the file. */
function formatProblems(file: string, problems: readonly JobFileProblem[]): string {
  const head = problems.length === 1 ? `job file ${file} has a problem:` : `job file ${file} has ${problems.length} problems:`;
  return [head, ...problems.map((p) => `  ${problemLine(file, p)}`)].join("\n");
}

/** `nightly.yaml:12:7 tasks[1].dependsOn[0]: message` (no position for a module; no path for the whole file). */
export function problemLine(file: string, problem: JobFileProblem): string {
  const where = problem.line === undefined ? file : `${file}:${problem.line}:${problem.column ?? 1}`;
  return `${where}${problem.path === "" ? "" : ` ${problem.path}`}: ${problem.message}`;
}
