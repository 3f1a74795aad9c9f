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

/** Cancellation: a StunetError whose name is 'AbortError' (as for fetch), with the signal's reason as cause. */
export class AbortError extends StunetError {
  constructor(message: string, cause: unknown) {
    super('RUNTIME', message, { cause });
    this.name = 'AbortError';
  }
}

/** Throws an AbortError when `signal` was aborted (the work in progress stops at this point). */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw new AbortError(`${what} was cancelled`, signal.reason);
}

/**
 * Lets the event loop run (timers, I/O, signal handlers such as Ctrl-C) between long synchronous steps:
 * engine kernels compute synchronously, and awaiting resolved promises never reaches the event loop.
 * Work that takes a signal yields at each of its checks, so a cancellation is seen.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, 0);
  });
}
