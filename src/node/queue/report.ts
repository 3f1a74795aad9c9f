/** The text `stunet queue status | results` print (their --json prints the CohortStatus objects). */
import type { CohortStatus } from './status.js';

/** 75 → '1:15', 3725 → '1:02:05'. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const hms = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60];
  const [h = 0, m = 0, sec = 0] = hms;
  const two = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
}

/** A cohort in a few lines: state, counts, ETA, where, and each failed case with its error. */
export function describeCohort(c: CohortStatus): string[] {
  const n = c.counts;
  const parts = [
    `${n.done} done${n.skipped > 0 ? ` (${n.skipped} found complete)` : ''}`,
    `${n.failed} failed`,
    `${n.running} running`,
    `${n.waiting} waiting`,
  ];
  if (n.cancelled > 0) parts.push(`${n.cancelled} cancelled`);
  const eta =
    c.state === 'complete' || c.state === 'cancelled'
      ? ''
      : `; ETA ${c.etaSeconds === null ? '? (no case finished yet)' : formatDuration(c.etaSeconds)}`;
  const lines = [
    `cohort ${c.name} (${c.id}): ${c.state}: ${c.total} cases: ${parts.join(', ')}${eta}`,
    `  submitted ${c.submitted}, model ${c.model}, out ${c.out}` +
      (c.cancelled === null ? '' : `, cancelled ${c.cancelled}`),
  ];
  for (const f of c.cases.filter((x) => x.state === 'failed' || x.state === 'retrying'))
    lines.push(
      `  ${f.state === 'failed' ? 'failed' : `retrying (try ${f.attempts})`}: ${f.case}: ${f.error ?? '(no error recorded)'}`,
    );
  return lines;
}

/** One row per case: case, state, seconds, output, statistics (aligned columns). */
export function resultsTable(c: CohortStatus): string[] {
  const rows = [
    ['case', 'state', 'seconds', 'output', 'statistics'],
    ...c.cases.map((x) => [
      x.case,
      x.state,
      x.seconds === null ? '-' : x.seconds.toFixed(1),
      x.state === 'done' || x.state === 'skipped' ? (x.output ?? '-') : '-',
      x.statistics ?? '-',
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return [
    `cohort ${c.name} (${c.id}): ${c.counts.done} of ${c.total} done`,
    ...rows.map((r) =>
      r
        .map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    ),
  ];
}
