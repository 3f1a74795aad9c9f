/**
 * Typed errors. Every failure a user can cause carries a code and a message that says what to do;
 * the CLI prints `error: <message>` and exits non-zero.
 */
export type StunetErrorCode =
  | 'BAD_INPUT' // malformed argument or file content
  | 'NOT_FOUND' // a file or key that should exist does not
  | 'UNSAFE_PICKLE' // a pickle asked for a global/opcode outside the whitelist
  | 'SHAPE_MISMATCH' // tensor shapes disagree (checkpoint vs architecture, op inputs)
  | 'UNSUPPORTED' // valid input we do not handle (yet)
  | 'RUNTIME'; // a dependency (onnxruntime, fs) failed

export class StunetError extends Error {
  readonly code: StunetErrorCode;
  constructor(code: StunetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StunetError';
    this.code = code;
  }
}

export function fail(code: StunetErrorCode, message: string): never {
  throw new StunetError(code, message);
}
