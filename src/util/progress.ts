/**
 * Progress reporting: stages emit events; the CLI renders a bar with ETA on a TTY and plain lines
 * otherwise; library users subscribe to the events.
 */
export interface ProgressEvent {
  readonly stage: string;
  readonly done: number;
  readonly total: number;
  readonly message?: string;
}

export type ProgressListener = (event: ProgressEvent) => void;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return h < 24
    ? `${h}h${String(m % 60).padStart(2, '0')}m`
    : `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

interface Writable {
  write(s: string): unknown;
  readonly isTTY?: boolean;
}

/**
 * A listener that draws `stage [#####-----] 3/10 ETA 12s` in place on a TTY (a bar of another stage starts
 * on a new line, so nested bars never overwrite each other), and plain lines otherwise: the first and the
 * last event of a stage, and in between at most one line per `intervalMs` (default 10 s) per stage, so a
 * log file gets a few hundred lines for a training run, not one per iteration.
 */
export function consoleProgress(
  stream: Writable,
  now: () => number = () => performance.now(),
  intervalMs = 10_000,
): ProgressListener {
  const started = new Map<string, number>();
  const printed = new Map<string, number>();
  let openBar: string | null = null;
  return (e) => {
    const t = now();
    const fresh = !started.has(e.stage) || e.done === 0;
    if (fresh) started.set(e.stage, t);
    const elapsed = (t - (started.get(e.stage) ?? t)) / 1000;
    const eta = e.done > 0 ? (elapsed / e.done) * (e.total - e.done) : NaN;
    const finished = e.done >= e.total;
    const tail = `${e.done}/${e.total}${finished ? ` in ${formatDuration(elapsed)}` : ` ETA ${formatDuration(eta)}`}${e.message ? ` ${e.message}` : ''}`;
    if (stream.isTTY === true) {
      if (openBar !== null && openBar !== e.stage) stream.write('\n');
      const width = 24;
      const filled = e.total > 0 ? Math.round((width * e.done) / e.total) : width;
      stream.write(`\r\x1b[2K${e.stage} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${tail}`);
      if (finished) stream.write('\n');
      openBar = finished ? null : e.stage;
      return;
    }
    const last = printed.get(e.stage);
    if (!fresh && !finished && last !== undefined && t - last < intervalMs) return;
    printed.set(e.stage, t);
    stream.write(`${e.stage}: ${tail}\n`);
  };
}
