/**
 * `SteppedJournal`: the order every journal keeps between its calls, so a journal of a file, of Redis
 * or of your own writes only its three steps. One open at a time (a second is refused with
 * E_JOURNAL_LOCKED); appends run one after another even when a caller does not wait for the last, and
 * only while open; a close waits for an open or close under way and for the appends, and the journal
 * may be opened again after it.
 */
import { FlotillaError } from "../errors.ts";
import type { Journal, JournalRecord } from "../journal.ts";

export type JournalState = "closed" | "opening" | "open" | "closing";

export abstract class SteppedJournal implements Journal {
  abstract readonly name: string;
  #state: JournalState = "closed";
  #appends: Promise<unknown> = Promise.resolve();
  #settling: Promise<unknown> = Promise.resolve();

  /** How messages name the journal (`file journal "/tmp/a.journal"`). */
  protected abstract get where(): string;
  /** Takes the journal and reads what it holds. */
  protected abstract openStep(): Promise<JournalRecord[]>;
  /** Adds records (a non-empty array) to an open journal, durably. */
  protected abstract appendStep(records: readonly JournalRecord[]): Promise<void>;
  /** Releases the journal (after the last append settled). */
  protected abstract closeStep(): Promise<void>;

  protected get state(): JournalState {
    return this.#state;
  }

  async open(): Promise<readonly JournalRecord[]> {
    if (this.#state !== "closed") {
      throw new FlotillaError("E_JOURNAL_LOCKED", `${this.where} is already open: one run at a time may use a journal; close() it first`);
    }
    this.#state = "opening";
    const opening = this.openStep();
    this.#settling = opening.catch(() => {});
    try {
      const records = await opening;
      this.#state = "open";
      return records;
    } catch (error) {
      this.#state = "closed";
      throw error;
    }
  }

  append(records: readonly JournalRecord[]): Promise<void> {
    const appended = this.#appends.then(() => this.#append(records));
    this.#appends = appended.catch(() => {});
    return appended;
  }

  async close(): Promise<void> {
    await this.#settling; // an open() or close() under way ends first
    if (this.#state !== "open") return;
    this.#state = "closing";
    const closing = this.#appends.then(() => this.closeStep());
    this.#settling = closing.catch(() => {});
    try {
      await closing;
    } finally {
      this.#state = "closed";
    }
  }

  #append(records: readonly JournalRecord[]): Promise<void> {
    if (this.#state !== "open") {
      throw new FlotillaError("E_JOURNAL_FAILED", `${this.where}: append() needs an open journal (call open() first; after close() open it again)`);
    }
    if (!Array.isArray(records)) throw new FlotillaError("E_JOURNAL_FAILED", `${this.where}: append() takes an array of records`);
    if (records.length === 0) return Promise.resolve();
    return this.appendStep(records);
  }
}
