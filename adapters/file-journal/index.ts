/**
 * flotilla/file-journal: a journal in a file, so a run killed half-way resumes where it stopped when
 * the same job runs again: `run(job, { journal: fileJournal("build.journal") })`.
 *
 * Files: journal.ts (the factory and the Journal it returns), format.ts (the file's lines: header,
 * records, checksums, torn-tail rules), crc32.ts (the checksum), lock.ts (one writer per journal, and
 * taking over a lock left by a process that ended), errors.ts (E_JOURNAL_FAILED from file system errors).
 */
export { fileJournal } from "./journal.ts";
