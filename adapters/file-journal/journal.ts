/** `fileJournal(path)`: the Journal contract on a file, with its lock, torn-tail recovery and fsync per append. */
import { type FileHandle, open, realpath } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { FlotillaError } from "../../src/errors.ts";
import type { Journal, JournalRecord } from "../../src/journal.ts";
import { SteppedJournal } from "../../src/provider-kit/stepped-journal.ts";
import { invalidOption } from "../../src/validation.ts";
import { journalFailed, step } from "./errors.ts";
import { HEADER, encodeAppend, parseJournal } from "./format.ts";
import { type HeldLock, acquireLock, releaseLock } from "./lock.ts";

/**
 * A journal kept in a file, so a run killed half-way (SIGKILL, a crash, a reboot) resumes when the same
 * job runs again with the same path. `name` is the path as given; a relative path is resolved against
 * the working directory when `fileJournal` is called.
 *
 * - `open()` takes the lock file `<path>.lock` (refused with E_JOURNAL_LOCKED while another process on
 *   this host that is still running, or any process on another host, holds it; a lock left by a process
 *   that has ended is taken over), creates the file if it is missing, and returns its records. A torn
 *   tail (a crash while the last line was written: bad lines, maybe several when stale bytes with
 *   newlines filled it, and no intact line after them) is dropped and cut off; a bad line with an intact
 *   line after it is damage, refused with E_JOURNAL_FAILED naming the line.
 * - `append(records)` writes them as one line and resolves after fsync (fdatasync): they survive a crash
 *   of the process or the machine. After a crash an append is there whole or not at all.
 * - `close()` closes the file and removes the lock.
 *
 * Under Deno it needs --allow-read, --allow-write, --allow-sys=hostname, and --allow-run to check
 * whether the holder of a lock still runs.
 *
 * @example
 * import { fileJournal } from "flotilla/file-journal";
 * await run(job, { journal: fileJournal("build.journal") }); // killed half-way
 * await run(job, { journal: fileJournal("build.journal") }); // runs only what did not succeed
 */
export function fileJournal(path: string): Journal;
export function fileJournal(...args: unknown[]): Journal {
  const [path] = args;
  if (typeof path !== "string" || path === "") throw invalidOption("fileJournal()", "path", "a non-empty string (the journal file's path)", path);
  if (args.length > 1 && args[1] !== undefined) {
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `fileJournal(): takes one argument, the journal file's path; it has no options (received ${args.length} arguments)`,
    );
  }
  return new FileJournal(path);
}

class FileJournal extends SteppedJournal {
  readonly name: string;
  /** The absolute path: what messages name. */
  readonly #file: string;
  #handle: FileHandle | undefined;
  #lock: HeldLock | undefined;
  /** Length of the file up to the last append that was synced. */
  #size = 0;
  /** The failure of an append: the file's end is then unknown, so nothing more is written until closed. */
  #failure: FlotillaError | undefined;

  constructor(path: string) {
    super();
    this.name = path;
    this.#file = resolve(path);
  }

  protected get where(): string {
    return `file journal "${this.#file}"`;
  }

  protected async openStep(): Promise<JournalRecord[]> {
    const file = this.#file;
    const target = await realTarget(file);
    const lock = await acquireLock(`${target}.lock`, file);
    let handle: FileHandle | undefined;
    try {
      handle = await step(file, "open the file", () => open(target, "a+"));
      const bytes = await step(file, "read the file", () => readAll(handle!));
      const parsed = parseJournal(bytes, file);
      let records: JournalRecord[] = [];
      if (parsed.fresh) {
        await step(file, "create the journal", () => writeHeader(handle!, target, bytes.length));
        this.#size = HEADER.length;
      } else {
        if (parsed.torn) await step(file, "cut off its torn tail", () => truncateSynced(handle!, parsed.intactBytes));
        this.#size = parsed.intactBytes;
        records = parsed.records;
      }
      this.#handle = handle;
      this.#lock = lock;
      this.#failure = undefined;
      return records;
    } catch (error) {
      await handle?.close().catch(() => {});
      await releaseLock(lock, file).catch(() => {});
      throw journalFailed(file, "open", error);
    }
  }

  protected async appendStep(records: readonly JournalRecord[]): Promise<void> {
    const file = this.#file;
    const handle = this.#handle;
    if (handle === undefined) throw new FlotillaError("E_JOURNAL_FAILED", `file journal "${file}": append() needs an open journal`);
    if (this.#failure !== undefined) {
      throw new FlotillaError("E_JOURNAL_FAILED", `file journal "${file}": an earlier append failed, so nothing more is written (${this.#failure.message})`, {
        cause: this.#failure,
      });
    }
    let line: Uint8Array;
    try {
      line = encodeAppend(records);
    } catch (error) {
      throw journalFailed(file, "write the records as JSON", error);
    }
    try {
      await writeAll(handle, line);
      await handle.datasync();
      this.#size += line.length;
    } catch (error) {
      this.#failure = journalFailed(file, "append", error);
      // Cut off what part of the line was written, so a later run finds a clean end (it would drop a
      // torn tail anyway). After a failed fsync the page cache is not trusted again: no retry.
      await handle.truncate(this.#size).catch(() => {});
      throw this.#failure;
    }
  }

  protected async closeStep(): Promise<void> {
    const file = this.#file;
    const handle = this.#handle!;
    const lock = this.#lock!;
    this.#handle = undefined;
    this.#lock = undefined;
    let failure: unknown;
    await handle.close().catch((error: unknown) => {
      failure = journalFailed(file, "close the file", error);
    });
    await releaseLock(lock, file).catch((error: unknown) => {
      failure ??= error;
    });
    if (failure !== undefined) throw failure;
  }
}

/**
 * The file's real path (symbolic links resolved), so two spellings of one journal share one lock.
 * A file not created yet resolves through its folder.
 */
async function realTarget(file: string): Promise<string> {
  try {
    return await realpath(file);
  } catch {
    return step(file, "find its folder", async () => join(await realpath(dirname(file)), basename(file)));
  }
}

async function readAll(handle: FileHandle): Promise<Uint8Array> {
  const { size } = await handle.stat();
  const bytes = new Uint8Array(size);
  let done = 0;
  while (done < size) {
    const { bytesRead } = await handle.read(bytes, done, size - done, done);
    if (bytesRead === 0) break; // shorter than stat said: read what is there
    done += bytesRead;
  }
  return bytes.subarray(0, done);
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  // The file is opened for appending: every write goes to its end.
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
    if (bytesWritten <= 0) throw new Error(`the file system wrote ${bytesWritten} of ${bytes.length - done} bytes`);
    done += bytesWritten;
  }
}

/** Writes the header of a new journal; `existing` bytes (a header cut short by a crash) are replaced. */
async function writeHeader(handle: FileHandle, target: string, existing: number): Promise<void> {
  if (existing > 0) await handle.truncate(0);
  await writeAll(handle, HEADER);
  await handle.datasync();
  // The file's name is durable once its folder is synced (once per journal).
  if (process.platform !== "win32") {
    const folder = await open(dirname(target), "r");
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  }
}

async function truncateSynced(handle: FileHandle, length: number): Promise<void> {
  await handle.truncate(length);
  await handle.datasync();
}
