/**
 * `predict --report report.json`: what ran and what came of each case (issue 16, item 3), for a log or a
 * pipeline: versions, device, the model and its sha256, the options, then per case its status, seconds,
 * files and error; a summary at the end.
 */
import type { RoiReport } from '../inference/roi.js';
import type { JsonValue } from '../util/json.js';
import type { PredictFileReport } from './predict-files.js';
import type { PredictRun } from './predict-run.js';

export interface PredictReportContext {
  /** Versions of what ran: stunet, node, onnxruntime, … */
  readonly versions: Readonly<Record<string, string>>;
  readonly device: string;
  readonly model: { readonly path: string; readonly sha256: string | null };
  /** A fold ensemble's members (each checkpoint and its sha256). */
  readonly members?: readonly { readonly path: string; readonly sha256: string | null }[];
  /** The options as given (JSON values). */
  readonly options: Readonly<Record<string, JsonValue>>;
  /** ISO time the run started. */
  readonly started: string;
}

export function predictReport(run: PredictRun, ctx: PredictReportContext): JsonValue {
  return {
    format: 'stunet-predict-report',
    version: 1,
    started: ctx.started,
    versions: { ...ctx.versions },
    device: ctx.device,
    model: { path: ctx.model.path, sha256: ctx.model.sha256 },
    ...(ctx.members === undefined
      ? {}
      : { members: ctx.members.map((m) => ({ path: m.path, sha256: m.sha256 })) }),
    options: { ...ctx.options },
    cases: run.cases.map((c) => ({
      input: c.input,
      output: c.output,
      status: c.status,
      seconds: Math.round(c.seconds * 1000) / 1000,
      files: [...c.files],
      ...(c.error === undefined ? {} : { error: c.error }),
    })),
    summary: {
      cases: run.cases.length,
      done: run.done,
      skipped: run.skipped,
      failed: run.failed,
      seconds: Math.round(run.seconds * 1000) / 1000,
    },
  };
}

/** The line after the last case: counts, and the failed cases named. */
export function describeRun(run: PredictRun): string {
  const parts = [`${run.done} predicted`];
  if (run.skipped > 0) parts.push(`${run.skipped} skipped (complete outputs exist)`);
  if (run.failed > 0)
    parts.push(
      `${run.failed} failed: ${run.cases
        .filter((c) => c.status === 'failed')
        .map((c) => c.input)
        .join(', ')}`,
    );
  return `${run.cases.length} case${run.cases.length === 1 ? '' : 's'}: ${parts.join(', ')} (${run.seconds.toFixed(1)} s)`;
}

/** `--roi-subset`'s line: what each pass ran, and the share of the full pass's tiles skipped. */
export function describeRoi(roi: RoiReport): string {
  if (roi.regionZYX === null)
    return `roi subset: none of the classes found by the coarse pass (${roi.coarseTiles} tiles, no TTA, step 1); nothing more run`;
  const box = (b: { lowZYX: readonly number[]; highZYX: readonly number[] }): string =>
    b.lowZYX.map((l, a) => `${l}…${b.highZYX[a] ?? 0}`).join(' × ');
  const where = roi.exact
    ? `the whole image's tiles that overlap ${box(roi.regionZYX)}`
    : `${box(roi.regionZYX)} alone`;
  return (
    `roi subset: coarse pass ${roi.coarseTiles} tiles (no TTA, step 1) found ${box(roi.boxZYX ?? roi.regionZYX)}; ` +
    `full pass ${roi.tiles} tiles on ${where} (network grid z × y × x; the whole image: ${roi.gridTiles} tiles)`
  );
}

/** A DICOM input's line: the series read, and what else the input held. */
export function describeDicomInput(d: NonNullable<PredictFileReport['dicom']>): string {
  const s = d.series;
  const what = [s.modality, s.description === '' ? '' : `'${s.description}'`]
    .filter((x) => x !== '')
    .join(', ');
  const others =
    d.otherSeries > 0 ? `; ${d.otherSeries} other series in the input (--series <uid> chooses)` : '';
  const skipped = d.skipped > 0 ? `; ${d.skipped} file(s) without an image skipped` : '';
  return `dicom: series ${s.uid || '(no uid)'}${what === '' ? '' : ` (${what})`}, ${s.slices} slices${others}${skipped}`;
}
