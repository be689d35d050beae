/**
 * CRC-32 (the one of zlib, gzip and PNG: polynomial 0xEDB88320, reflected), so a line's checksum can be
 * checked with common tools. Node 20 has no zlib.crc32 (it came in 22.2), hence these few lines.
 */

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** The CRC-32 of `bytes`, as 8 lower-case hex digits. */
export function crc32Hex(bytes: Uint8Array): string {
  table ??= crcTable();
  let crc = 0xffffffff;
  for (const byte of bytes) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return ((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, "0");
}
