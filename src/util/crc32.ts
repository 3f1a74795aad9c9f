/** CRC-32 (ISO-HDLC: the polynomial of zip, PNG and zlib's crc32). Portable (browsers too). */

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  if (table === undefined) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  return table;
}

/** CRC of `bytes`; `seed` continues a running CRC (crc32(b, crc32(a)) = crc32(a ‖ b)). */
export function crc32(bytes: Uint8Array, seed = 0): number {
  const t = crcTable();
  let c = ~seed >>> 0;
  for (const b of bytes) c = (t[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return ~c >>> 0;
}
