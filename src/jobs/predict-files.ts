/**
 * `stunet predict` over a FileStore: one case file, or a folder of them (nnU-Net naming: `case_0000.nii.gz`
 * → `case.nii.gz`, so `evaluate` pairs the outputs with `labelsTs`). The host lends the store, where the
 * stitching ring lives, and a sink for probabilities; every output of a case is written in one
 * all-or-nothing store write.
 */
import type { RoiReport } from '../inference/roi.js';
import { outputFileNames } from './case-outputs.js';
import type { NetworkFn } from '../inference/tta.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { fail } from '../util/errors.js';
import type { DicomSeriesInfo } from '../io/dicom/series.js';
import { isDicomInput, readDicomInput, type DicomInputOptions } from './dicom-input.js';
import { niftiStem, predictCase, type ChannelInput, type PredictCaseOptions } from './predict-case.js';
import { memoryProbabilitySink, type ProbabilitySink } from './probability-npz.js';
import type { FileStore } from './store.js';

export { memoryProbabilitySink, type ProbabilitySink };

export interface PredictHost {
  readonly store: FileStore;
  /** A sink for `<stem>_probabilities.npz` (default: built in memory, written through the store). */
  probabilitySink?(path: string): ProbabilitySink;
}

export interface PredictFileOptions extends Omit<PredictCaseOptions, 'onProbabilities' | 'dicomSource'> {
  /** How a DICOM input (a folder without NIfTI files, a zip, a DICOM file) is read: `--series`, `--allow-tilt`. */
  readonly dicom?: Omit<DicomInputOptions, 'maxBytes'>;
  /**
   * Also write `<stem>_probabilities.npz`: float32 (K, Zc, Yc, Xc) on the cropped grid, with the crop box,
   * the shape before cropping and the spacing (src/jobs/probability-npz.ts).
   */
  readonly saveProbabilities?: boolean;
}

export interface PredictFileReport {
  readonly input: string;
  readonly files: string[];
  readonly shape: readonly number[];
  readonly classesPresent: number;
  /** Predicted in the closest canonical orientation (and written back in the input's). */
  readonly reoriented: boolean;
  readonly seconds: number;
  /** With --roi-subset: the tiles of the coarse and the full pass. */
  readonly roi?: RoiReport;
  /** A DICOM input: the series read, and how many others the input held. */
  readonly dicom?: {
    readonly series: DicomSeriesInfo;
    readonly otherSeries: number;
    readonly skipped: number;
  };
}

/** A channel's bytes: a .hdr brings the .img (or .img.gz) beside it. */
function readChannel(store: FileStore, path: string): ChannelInput {
  if (!/\.hdr$/i.test(path)) return store.read(path, 'input image');
  const img = [path.replace(/\.hdr$/i, '.img'), path.replace(/\.hdr$/i, '.img.gz')].find((p) =>
    store.exists(p),
  );
  if (img === undefined) fail('NOT_FOUND', `input image '${path}' is a .hdr without its .img beside it`);
  return { hdr: store.read(path, 'input image'), img: store.read(img, 'input image data') };
}

/**
 * Predicts one case (one file per input channel, in channel order) and writes `output` (.nii.gz, or .nii
 * uncompressed) plus `<stem>.json` (names) and, as asked, `<stem>_classes/<name>.nii.gz`,
 * `<stem>_statistics.json`, `<stem>_preview.png`, `<stem>_probabilities.npz`.
 */
export async function predictCaseFile(
  host: PredictHost,
  input: string | readonly string[],
  output: string,
  model: LoadedModel,
  network: NetworkFn,
  opts: PredictFileOptions = {},
): Promise<PredictFileReport> {
  const t0 = performance.now();
  const { store } = host;
  const files = typeof input === 'string' ? [input] : input;
  const first = files[0] ?? fail('BAD_INPUT', 'predict: a case needs at least one image');
  const dicom =
    files.length === 1 && isDicomInput(store, first)
      ? await readDicomInput(store, first, {
          ...opts.dicom,
          ...(opts.maxImageBytes === undefined ? {} : { maxBytes: opts.maxImageBytes }),
        })
      : null;
  const channels = dicom === null ? files.map((f) => readChannel(store, f)) : [dicom.image];
  const outDir = store.dirname(output);
  store.cleanFolder?.(outDir); // outputs of an earlier run killed mid-write
  const probsPath = store.join(outDir, outputFileNames(store.basename(output)).probabilities);
  const probs =
    opts.saveProbabilities === true
      ? (host.probabilitySink?.(probsPath) ?? memoryProbabilitySink(store, probsPath))
      : null;
  try {
    const whats = files.map((f) => `'${f}'`);
    const r = await predictCase(channels, whats, store.basename(output), model, network, {
      ...opts,
      ...(dicom === null ? {} : { dicomSource: dicom.source }),
      ...(probs === null
        ? {}
        : {
            onProbabilities: (z, v, g) => {
              probs.write(z, v, g);
            },
          }),
    });
    const written = r.outputs.map((o) => ({ path: store.join(outDir, o.name), data: o.data }));
    store.writeAll(written);
    probs?.commit();
    return {
      input: files.join(','),
      files: [...written.map((f) => f.path), ...(probs === null ? [] : [probs.path])],
      shape: r.shape,
      classesPresent: r.classesPresent,
      reoriented: r.reoriented,
      seconds: (performance.now() - t0) / 1000,
      ...(r.roi === undefined ? {} : { roi: r.roi }),
      ...(dicom === null
        ? {}
        : {
            dicom: {
              series: dicom.series,
              otherSeries: dicom.otherSeries.length,
              skipped: dicom.skipped.length,
            },
          }),
    };
  } catch (e) {
    probs?.abort();
    throw e;
  }
}

const IMAGE_FILE = /\.(nii(\.gz)?|hdr)$/i;

/** The image files of a folder (.nii, .nii.gz, .hdr), sorted (hidden and temporary files skipped). */
export function listNiftiFiles(store: FileStore, dir: string): string[] {
  const files = store.list(dir).filter((f) => !f.startsWith('.') && IMAGE_FILE.test(f));
  if (files.length === 0) fail('NOT_FOUND', `predict: no .nii, .nii.gz or .hdr files in '${dir}'`);
  return files.map((f) => store.join(dir, f));
}

/** One case to predict: its output name and one file per input channel, in channel order. */
export interface CaseFiles {
  readonly name: string;
  readonly files: readonly string[];
}

/** nnU-Net's naming `<case>_<XXXX>` (channel XXXX, four digits). */
export const CHANNEL_SUFFIX = /^(.+)_(\d{4})$/;

/**
 * The cases of a folder as nnU-Net reads them: `case_0000`, `case_0001`, … are the channels of `case`
 * (channels 0…C−1, none missing); a file without the suffix is a one-channel case of its own name.
 */
export function groupCaseFiles(store: FileStore, paths: readonly string[]): CaseFiles[] {
  const groups = new Map<string, Map<number, string>>();
  for (const p of paths) {
    const stem = niftiStem(p);
    const m = CHANNEL_SUFFIX.exec(stem);
    const name = m?.[1] ?? stem;
    const channel = m?.[2] === undefined ? 0 : Number(m[2]);
    const g = groups.get(name) ?? new Map<number, string>();
    if (g.has(channel))
      fail(
        'BAD_INPUT',
        `predict: case '${name}' has channel ${channel} twice ('${g.get(channel) ?? ''}', '${p}')`,
      );
    g.set(channel, p);
    groups.set(name, g);
  }
  return [...groups].flatMap(([name, g]): CaseFiles[] => {
    // One file with a suffix other than _0000 (e.g. `patient_2021`) is a case of its own full name.
    const only = g.size === 1 ? [...g.values()][0] : undefined;
    if (only !== undefined && !g.has(0)) return [{ name: niftiStem(only), files: [only] }];
    const files = [...g.keys()]
      .sort((a, b) => a - b)
      .map((c, i) => {
        if (c !== i)
          fail(
            'BAD_INPUT',
            `predict: case '${name}' has no channel ${i} (${name}_${String(i).padStart(4, '0')}); found channels ${[...g.keys()].sort((a, b) => a - b).join(', ')}`,
          );
        return g.get(c) ?? '';
      });
    return [{ name, files }];
  });
}

/** Fails now, naming the folder, when outputs cannot be written there (before any computing). */
export function checkWritable(store: FileStore, dir: string, what = 'the output folder'): void {
  const probe = store.join(dir, `.stunet-write-check-${Math.random().toString(36).slice(2, 10)}.tmp`);
  try {
    store.makeDir(dir);
    store.writeAll([{ path: probe, data: '' }]);
    store.remove(probe);
  } catch (e) {
    fail(
      'BAD_INPUT',
      `predict: cannot write to ${what} '${dir}': ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
