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
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

interface Writable {
  write(s: string): unknown;
  readonly isTTY?: boolean;
}

/** A listener that draws `stage [#####-----] 3/10 ETA 12s` in place on a TTY, one line per event otherwise. */
export function consoleProgress(
  stream: Writable,
  now: () => number = () => performance.now(),
): ProgressListener {
  const started = new Map<string, number>();
  return (e) => {
    const t = now();
    if (!started.has(e.stage) || e.done === 0) started.set(e.stage, t);
    const elapsed = (t - (started.get(e.stage) ?? t)) / 1000;
    const eta = e.done > 0 ? (elapsed / e.done) * (e.total - e.done) : NaN;
    const tail = `${e.done}/${e.total}${e.done < e.total ? ` ETA ${formatDuration(eta)}` : ` in ${formatDuration(elapsed)}`}${e.message ? ` ${e.message}` : ''}`;
    if (stream.isTTY === true) {
      const width = 24;
      const filled = e.total > 0 ? Math.round((width * e.done) / e.total) : width;
      stream.write(`\r\x1b[2K${e.stage} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${tail}`);
      if (e.done >= e.total) stream.write('\n');
    } else {
      stream.write(`${e.stage}: ${tail}\n`);
    }
  };
}
