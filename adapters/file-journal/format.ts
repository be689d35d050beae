/**
 * The journal file's format, read and written here and nowhere else.
 *
 *   flotilla-journal 1
 *   [{"type":"job",...},{"type":"run",...}]<TAB>3f1c0a9e
 *   [{"type":"task","id":"a",...}]<TAB>0b7d44c2
 *
 * Line 1 is the header: it marks the file as a journal (a file that is not one is never written into,
 * nor truncated) and gives the format's version. Every later line is one `append()`: its records as a
 * JSON array, a tab, and the CRC-32 of the JSON's UTF-8 bytes in hex. JSON text holds no raw tab or
 * newline, so the separators cannot occur inside it.
 *
 * One line per append rather than per record makes an append all or nothing after a crash. The pages
 * of a write not yet fsynced reach the disk in any order (a page of zeros can sit between two written
 * ones), and after a power loss the unwritten part may hold stale bytes of an older file, newlines
 * included: a torn append can look like several bad lines. So the torn tail is every bad line (one that
 * is incomplete or fails its checksum) with no intact line after it; it is dropped as a whole, from its
 * first bad line on. Every append was fsynced before the next one was written, so a bad line with an
 * intact line after it changed after it was synced: that is damage, not a crash, and is refused.
 */
import { FlotillaError } from "../../src/errors.ts";
import type { JournalRecord } from "../../src/journal.ts";
import { crc32Hex } from "./crc32.ts";

/** The version of this file format (the framing; the records' own version is core's JOURNAL_FORMAT). */
export const FILE_FORMAT = 1;
const MAGIC = "flotilla-journal";
export const HEADER = new TextEncoder().encode(`${MAGIC} ${FILE_FORMAT}\n`);

const NEWLINE = 0x0a;
const TAB = 0x09;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The line that appends `records`. Throws what JSON.stringify throws (a cycle, a BigInt). */
export function encodeAppend(records: readonly JournalRecord[]): Uint8Array {
  const json = encoder.encode(JSON.stringify(records));
  const line = new Uint8Array(json.length + 10);
  line.set(json);
  line[json.length] = TAB;
  line.set(encoder.encode(crc32Hex(json)), json.length + 1);
  line[json.length + 9] = NEWLINE;
  return line;
}

/** What a journal file holds. */
export type ParsedJournal =
  /** No journal yet: an empty file, or one whose header was being written when its creator stopped. */
  | { readonly fresh: true }
  | {
      readonly fresh: false;
      readonly records: JournalRecord[];
      /** Bytes of the intact part: the header and every good line. */
      readonly intactBytes: number;
      /** Whether a torn tail (bad lines with no intact line after them) follows the intact part (it is dropped). */
      readonly torn: boolean;
    };

/**
 * Reads a journal file's bytes. Throws E_JOURNAL_FAILED for a file that is not a journal or is damaged
 * (a bad line with an intact line after it, or an intact line that holds no records; naming the line),
 * E_JOURNAL_MISMATCH for a journal of another format version. `file` names the file in messages.
 */
export function parseJournal(bytes: Uint8Array, file: string): ParsedJournal {
  const headerEnd = checkHeader(bytes, file);
  if (headerEnd === undefined) return { fresh: true };
  const records: JournalRecord[] = [];
  let start = headerEnd;
  let line = 1;
  // The first bad line not yet followed by an intact one: the torn tail starts there, unless an intact line comes later.
  let firstBad: { start: number; line: number; reason: string } | undefined;
  while (start < bytes.length) {
    line++;
    const newline = bytes.indexOf(NEWLINE, start);
    // A line without its newline is the end of a write that did not finish: part of the torn tail.
    if (newline === -1) break;
    const decoded = decodeLine(bytes.subarray(start, newline));
    if ("torn" in decoded) {
      firstBad ??= { start, line, reason: decoded.torn };
    } else if (firstBad !== undefined) {
      // An intact line (its checksum holds) after a bad one: that bad line had been synced, so it is damage.
      throw damaged(file, firstBad.line, countLines(bytes), `${firstBad.reason}, and line ${line} after it is intact`);
    } else if ("damaged" in decoded) {
      throw damaged(file, line, countLines(bytes), decoded.damaged);
    } else {
      for (const record of decoded.records) records.push(record); // not push(...): a batch can be longer than the argument limit
    }
    start = newline + 1;
  }
  const intactBytes = firstBad?.start ?? start;
  return { fresh: false, records, intactBytes, torn: intactBytes < bytes.length };
}

/** The end of the header, or undefined when the file holds no complete header yet (nothing to lose). */
function checkHeader(bytes: Uint8Array, file: string): number | undefined {
  const newline = bytes.indexOf(NEWLINE);
  if (newline === -1 && isPrefixOfHeader(bytes)) return undefined;
  const first = newline === -1 ? bytes : bytes.subarray(0, newline);
  if (newline + 1 === HEADER.length && isPrefixOfHeader(bytes.subarray(0, HEADER.length))) return HEADER.length;
  const text = new TextDecoder().decode(first.subarray(0, 80));
  const version = new RegExp(`^${MAGIC} (\\S+)$`).exec(text)?.[1];
  if (version !== undefined) {
    throw new FlotillaError(
      "E_JOURNAL_MISMATCH",
      `file journal "${file}" was written in format ${version} (its first line is "${MAGIC} ${version}"); this version of flotilla reads format ${FILE_FORMAT}`,
    );
  }
  throw new FlotillaError(
    "E_JOURNAL_FAILED",
    `file journal "${file}": the file is not a flotilla journal (its first line is not "${MAGIC} ${FILE_FORMAT}"), so it is neither read nor written; give fileJournal() a new path or one it wrote`,
  );
}

function isPrefixOfHeader(bytes: Uint8Array): boolean {
  return bytes.length <= HEADER.length && bytes.every((b, i) => b === HEADER[i]);
}

/** One line's records; `torn` when its framing is broken (as a crash leaves it), `damaged` when its checksum holds but its content is not records. */
function decodeLine(line: Uint8Array): { records: JournalRecord[] } | { torn: string } | { damaged: string } {
  const tab = line.lastIndexOf(TAB);
  if (tab === -1) return { torn: "it has no checksum" };
  const json = line.subarray(0, tab);
  const sum = new TextDecoder().decode(line.subarray(tab + 1));
  if (crc32Hex(json) !== sum) return { torn: "its checksum does not match its content" };
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(json));
  } catch {
    return { damaged: "its checksum matches but its content is not JSON" };
  }
  if (!Array.isArray(value) || !value.every((r) => typeof r === "object" && r !== null && !Array.isArray(r))) {
    return { damaged: "its checksum matches but its content is not a list of records" };
  }
  return { records: value as JournalRecord[] };
}

function countLines(bytes: Uint8Array): number {
  let lines = 0;
  for (const b of bytes) if (b === NEWLINE) lines++;
  return bytes[bytes.length - 1] === NEWLINE ? lines : lines + 1;
}

function damaged(file: string, line: number, lines: number, reason: string): FlotillaError {
  return new FlotillaError(
    "E_JOURNAL_FAILED",
    `file journal "${file}" is damaged at line ${line} of ${lines}: ${reason}. Only a torn tail (bad lines after the last intact one: a crash while the last line was written) is dropped; a bad line before an intact one changed after it was synced, so the journal is not resumed from. The lines before line ${line} are intact: to resume from them, keep only those (head -n ${line - 1}).`,
  );
}
