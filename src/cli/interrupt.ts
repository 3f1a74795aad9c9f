/**
 * Ctrl-C (SIGINT) and SIGTERM. The first asks the running job to stop at its next check (a tile of the
 * sliding window, an iteration of training) through an AbortSignal, so that its `finally`/`catch` blocks
 * remove temporary files and end worker threads; the command then prints one line and exits 130. A second
 * signal ends the process at once.
 */
import { AbortError } from '../util/errors.js';

/** What a command prints after an interrupt: `interrupted: <hint>`, exit status 130. */
export class Interrupted extends Error {
  constructor(readonly hint: string) {
    super(hint);
    this.name = 'Interrupted';
  }
}

const controller = new AbortController();
/** Aborted at the first SIGINT or SIGTERM once installInterruptHandler ran. */
export const interruptSignal: AbortSignal = controller.signal;

let installed = false;

export function installInterruptHandler(): void {
  if (installed) return;
  installed = true;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new Error(`received ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** `work` with the interrupt signal; its cancellation becomes an Interrupted carrying `hint`. */
export async function interruptible<T>(hint: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  try {
    return await work(interruptSignal);
  } catch (e) {
    if (e instanceof AbortError || (interruptSignal.aborted && e instanceof Error && e.name === 'AbortError'))
      throw new Interrupted(hint);
    throw e;
  }
}
