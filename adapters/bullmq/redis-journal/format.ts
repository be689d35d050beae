/**
 * What a redis journal looks like in Redis, read and written here and nowhere else.
 *
 *   <key>        a list: "flotilla-journal 1", then one entry per append(): its records as a JSON array
 *   <key>:lock   a string with an expiry: the holder, as JSON { token, host, pid, since }
 *
 * One list entry per append, pushed by a script that first checks the lock is ours and the list is as
 * long as we left it: an append is all or nothing, never lands in a journal another coordinator took
 * over, and a list that lost entries (Redis restarted without persistence) is noticed, not extended.
 */
import { FlotillaError } from "../../../src/errors.ts";
import type { JournalRecord } from "../../../src/journal.ts";

/** The version of this layout (the list's framing; the records' own version is core's JOURNAL_FORMAT). */
export const REDIS_FORMAT = 1;
const MAGIC = "flotilla-journal";
export const HEADER = `${MAGIC} ${REDIS_FORMAT}`;

/**
 * Pushes ARGV[3..] onto the list KEYS[1] if the lock KEYS[2] holds ARGV[1] and the list has ARGV[2]
 * entries. Returns {1, new length} or {0, length, lock value or ""}.
 */
export const APPEND_SCRIPT = `
local n = redis.call('llen', KEYS[1])
local holder = redis.call('get', KEYS[2])
if holder ~= ARGV[1] or n ~= tonumber(ARGV[2]) then return {0, n, holder or ''} end
return {1, redis.call('rpush', KEYS[1], unpack(ARGV, 3))}`;

/** Parses the list's entries into records. `where` names the journal. */
export function parseEntries(entries: readonly string[], where: string): JournalRecord[] {
  const first = entries[0] ?? "";
  if (first !== HEADER) {
    const version = new RegExp(`^${MAGIC} (\\S+)$`).exec(first.slice(0, 80))?.[1];
    if (version !== undefined) {
      throw new FlotillaError(
        "E_JOURNAL_MISMATCH",
        `${where} was written in format ${version} (its first entry is "${MAGIC} ${version}"); this version of flotilla reads format ${REDIS_FORMAT}`,
      );
    }
    throw new FlotillaError(
      "E_JOURNAL_FAILED",
      `${where}: the list is not a flotilla journal (its first entry is ${JSON.stringify(first.slice(0, 40))}, not "${HEADER}"), so it is neither read nor written; give redisJournal() another key, or delete this one if it is yours`,
    );
  }
  const records: JournalRecord[] = [];
  for (let i = 1; i < entries.length; i++) {
    let value: unknown;
    try {
      value = JSON.parse(entries[i]!);
    } catch {
      value = undefined;
    }
    if (!Array.isArray(value) || !value.every((r) => typeof r === "object" && r !== null && !Array.isArray(r))) {
      throw new FlotillaError(
        "E_JOURNAL_FAILED",
        `${where} is damaged: entry ${i + 1} of ${entries.length} is not a JSON list of records (${JSON.stringify(entries[i]!.slice(0, 40))}); flotilla writes every entry whole, so something else changed it. The journal is not resumed from`,
      );
    }
    for (const record of value) records.push(record as JournalRecord);
  }
  return records;
}
