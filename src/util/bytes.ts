/** Byte helpers shared by the writers (zip, safetensors, ONNX external data, .npz, stores). */

/** The chunks as one array (a copy): for files small enough to hold whole. */
export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}
