/** Reading a command's stdout and stderr: lines as they come, a capped capture, a tail for errors. */
import type { OutputStream } from "../../src/task-context.ts";

/** A line longer than this is reported in pieces, so a stream without newlines cannot grow without bound. */
const MAX_LINE = 64 * 1024;
/** The stderr kept for errors: its last 4 KiB, then at most its last 20 lines. */
const TAIL_CHARS = 4 * 1024;
const TAIL_LINES = 20;

type Log = (line: string, stream: OutputStream) => void;

/** Decodes one stream as UTF-8 and reports it line by line (a final "\r" is dropped from each line). */
export class LineReader {
  readonly #stream: OutputStream;
  readonly #log: Log;
  readonly #decoder = new TextDecoder();
  #pending = "";

  constructor(stream: OutputStream, log: Log) {
    this.#stream = stream;
    this.#log = log;
  }

  /** Decodes a chunk, reports the lines it completes, and returns its text. */
  push(chunk: Uint8Array): string {
    const text = this.#decoder.decode(chunk, { stream: true });
    let start = 0;
    let nl = text.indexOf("\n");
    if (nl < 0) {
      this.#pending += text;
    } else {
      let head = this.#pending;
      this.#pending = "";
      do {
        this.#emit(head + text.slice(start, nl));
        head = "";
        start = nl + 1;
        nl = text.indexOf("\n", start);
      } while (nl >= 0);
      this.#pending = text.slice(start);
    }
    while (this.#pending.length > MAX_LINE) {
      // Not between the two halves of a surrogate pair (a character beyond U+FFFF, such as an emoji).
      const high = this.#pending.charCodeAt(MAX_LINE - 1);
      const cut = high >= 0xd800 && high <= 0xdbff ? MAX_LINE - 1 : MAX_LINE;
      this.#log(this.#pending.slice(0, cut), this.#stream);
      this.#pending = this.#pending.slice(cut);
    }
    return text;
  }

  /** Reports a last line without a newline; returns the decoder's last text. */
  end(): string {
    const text = this.#decoder.decode();
    const last = this.#pending + text;
    this.#pending = "";
    if (last.length > 0) this.#emit(last);
    return text;
  }

  #emit(line: string): void {
    this.#log(line.endsWith("\r") ? line.slice(0, -1) : line, this.#stream);
  }
}

/** Keeps the last few KiB of a stream's text. */
export class Tail {
  #parts: string[] = [];
  #chars = 0;
  #cut = false;

  push(text: string): void {
    if (text.length === 0) return;
    this.#parts.push(text);
    this.#chars += text.length;
    if (this.#chars > 2 * TAIL_CHARS) {
      const all = this.#parts.join("");
      this.#parts = [all.slice(-TAIL_CHARS)];
      this.#chars = TAIL_CHARS;
      this.#cut = true;
    }
  }

  /** The last 20 lines of the last 4 KiB, without a trailing newline ("" for none). */
  text(): string {
    let text = this.#parts.join("");
    let cut = this.#cut;
    if (text.length > TAIL_CHARS) [text, cut] = [text.slice(-TAIL_CHARS), true];
    let lines = text.replace(/\r?\n$/, "").split(/\r?\n/);
    if (cut && lines.length > 1) lines = lines.slice(1); // the first line was cut through
    if (lines.length > TAIL_LINES) lines = lines.slice(-TAIL_LINES);
    return lines.join("\n");
  }
}
