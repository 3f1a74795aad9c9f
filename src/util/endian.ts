/** True on little-endian hosts (all supported platforms); typed-array views of file bytes rely on it. */
export function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}
