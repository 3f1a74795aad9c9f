// The package ships no declarations (its "types" file is missing from the release): the part we use.
declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    constructor(buffer?: ArrayBuffer, numBytes?: number);
    decode(buffer: ArrayBuffer, offset: number, length: number, numBytes?: number): Uint8Array | Uint16Array;
    readonly xDim: number;
    readonly yDim: number;
    readonly numComp: number;
    readonly precision: number;
  }
}
