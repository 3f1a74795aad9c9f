/**
 * Node adapter for datasets on disk: reading and validating an nnU-Net v2 raw dataset folder, and the
 * MSD / TotalSegmentator converters (the format logic is in src/io/dataset*.ts).
 */
import { fail } from '../util/errors.js';
import {
  checkConsecutiveLabels,
  checkDatasetFiles,
  describeDataset,
  expectedLabelValues,
  failOnProblems,
  parseDatasetJson,
  strayFiles,
  type DatasetDescription,
  type DatasetProblem,
} from '../io/dataset.js';
import {
  datasetFolderName,
  mergeClassMasks,
  msdToV2DatasetJson,
  parseMsdTaskName,
  splitChannels,
  totalsegDatasetJson,
} from '../io/dataset-convert.js';
import { checkCaseGeometry, checkCaseValues } from '../io/dataset-validate.js';
import type { LabelSystem } from '../io/labels/index.js';
import { readNifti, writeNifti, type NiftiImage } from '../io/nifti.js';
import { niftiToVolume } from '../io/nifti-volume.js';
import {
  analyzeCase,
  combineFingerprints,
  samplesPerCase,
  type DatasetFingerprint,
} from '../planning/fingerprint.js';
import type { Volume } from '../io/volume.js';
import type { Vec3 } from '../util/vec3.js';
import { readText, type FileStore } from './store.js';

function listFiles(store: FileStore, dir: string): string[] {
  return store.isDirectory(dir) ? store.list(dir) : [];
}

/** Reads dataset.json and the file names; problems (not exceptions) for anything wrong. */
export function readDatasetDir(
  store: FileStore,
  dir: string,
): { desc: DatasetDescription | null; problems: DatasetProblem[]; ignored: string[] } {
  const problems: DatasetProblem[] = [];
  if (!store.isDirectory(dir)) fail('NOT_FOUND', `dataset folder '${dir}' does not exist`);
  const jsonPath = store.join(dir, 'dataset.json');
  if (!store.exists(jsonPath)) {
    problems.push({
      kind: 'missing-file',
      message: `${jsonPath} is missing (nnU-Net v2 datasets need a dataset.json)`,
    });
  }
  for (const sub of ['imagesTr', 'labelsTr']) {
    if (!store.isDirectory(store.join(dir, sub)))
      problems.push({ kind: 'missing-file', message: `${store.join(dir, sub)}/ is missing` });
  }
  if (!store.exists(jsonPath)) return { desc: null, problems, ignored: [] };
  const json = parseDatasetJson(readText(store, jsonPath, 'dataset.json'), problems);
  if (json === null) return { desc: null, problems, ignored: [] };
  problems.push(...checkConsecutiveLabels(json.labels));
  const labelFiles = listFiles(store, store.join(dir, 'labelsTr'));
  const imageFiles = listFiles(store, store.join(dir, 'imagesTr'));
  const desc = describeDataset(json, imageFiles, labelFiles);
  problems.push(...checkDatasetFiles(desc, labelFiles));
  return { desc, problems, ignored: strayFiles(json, imageFiles, labelFiles) };
}

function tryRead(
  store: FileStore,
  dir: string,
  rel: string,
  caseId: string,
  problems: DatasetProblem[],
): NiftiImage | null {
  try {
    return readNifti(store.read(store.join(dir, rel), rel));
  } catch (e) {
    problems.push({ kind: 'unreadable-file', caseId, message: `${caseId}: ${rel}: ${(e as Error).message}` });
    return null;
  }
}

/** Every problem in the dataset: names and dataset.json first, then each case's geometry and values. */
export function validateDatasetDir(
  store: FileStore,
  dir: string,
): {
  desc: DatasetDescription | null;
  problems: DatasetProblem[];
  ignored: string[];
} {
  const { desc, problems, ignored } = readDatasetDir(store, dir);
  if (desc === null) return { desc, problems, ignored };
  const expected = expectedLabelValues(desc.json.labels);
  for (const c of desc.cases) {
    const images: { name: string; image: NiftiImage }[] = [];
    for (const rel of c.images) {
      const image = tryRead(store, dir, rel, c.id, problems);
      if (image !== null) images.push({ name: rel, image });
    }
    const labelImage = c.label === null ? null : tryRead(store, dir, c.label, c.id, problems);
    const label = c.label === null || labelImage === null ? null : { name: c.label, image: labelImage };
    problems.push(...checkCaseGeometry(c.id, images, label));
    problems.push(...checkCaseValues(c.id, images, label, expected));
  }
  return { desc, problems, ignored };
}

/** The images (channel order) and label of one case. */
export function readCase(
  store: FileStore,
  dir: string,
  c: DatasetDescription['cases'][number],
): { images: NiftiImage[]; label: NiftiImage } {
  if (c.label === null) fail('NOT_FOUND', `${c.id}: no label file in labelsTr`);
  return {
    images: c.images.map((rel) => readNifti(store.read(store.join(dir, rel), rel))),
    label: readNifti(store.read(store.join(dir, c.label), c.label)),
  };
}

const visible = (names: readonly string[], ending: string): string[] =>
  names.filter((n) => !n.startsWith('.') && !n.startsWith('_') && n.endsWith(ending));

export interface ConvertOptions {
  readonly id?: number;
  readonly name?: string;
}

/** MSD TaskXX_Name → `<outRoot>/DatasetXXX_Name` (or `outRoot` itself when it is named Dataset…). */
function targetDir(store: FileStore, outRoot: string, id: number, name: string): string {
  return /^Dataset\d{3}_/.test(store.basename(outRoot))
    ? outRoot
    : store.join(outRoot, datasetFolderName(id, name));
}

const writeOne = (store: FileStore, path: string, data: Uint8Array | string): void => {
  store.writeAll([{ path, data }]);
};

function refuseNonEmpty(store: FileStore, dst: string): void {
  if (store.isDirectory(dst) && store.list(dst).length > 0) {
    fail('BAD_INPUT', `output folder '${dst}' exists and is not empty; choose another -o or remove it`);
  }
}

export function convertMsd(
  store: FileStore,
  src: string,
  outRoot: string,
  opts: ConvertOptions = {},
): { dir: string; cases: number } {
  for (const sub of ['imagesTr', 'labelsTr']) {
    if (!store.isDirectory(store.join(src, sub)))
      fail(
        'NOT_FOUND',
        `convert msd: '${store.join(src, sub)}' is missing (is this an MSD TaskXX_Name folder?)`,
      );
  }
  const task =
    opts.id !== undefined && opts.name !== undefined
      ? { id: opts.id, name: opts.name }
      : parseMsdTaskName(store.basename(src));
  const dst = targetDir(store, outRoot, opts.id ?? task.id, opts.name ?? task.name);
  refuseNonEmpty(store, dst);
  const msdJson: unknown = JSON.parse(readText(store, store.join(src, 'dataset.json'), 'MSD dataset.json'));
  const images = visible(listFiles(store, store.join(src, 'imagesTr')), '.nii.gz');
  const labels = new Set(visible(listFiles(store, store.join(src, 'labelsTr')), '.nii.gz'));
  for (const [folder, out] of [
    ['imagesTr', 'imagesTr'],
    ['imagesTs', 'imagesTs'],
  ] as const) {
    for (const name of visible(listFiles(store, store.join(src, folder)), '.nii.gz')) {
      const image = readNifti(store.read(store.join(src, folder, name), name));
      const stem = name.slice(0, -'.nii.gz'.length);
      splitChannels(image).forEach((ch, i) => {
        writeOne(store, store.join(dst, out, `${stem}_${String(i).padStart(4, '0')}.nii.gz`), writeNifti(ch));
      });
    }
  }
  for (const name of labels)
    writeOne(store, store.join(dst, 'labelsTr', name), store.read(store.join(src, 'labelsTr', name), name));
  const json = msdToV2DatasetJson(msdJson, images.length);
  writeOne(store, store.join(dst, 'dataset.json'), JSON.stringify(json, null, 4) + '\n');
  return { dir: dst, cases: images.length };
}

/** TotalSegmentator release folder (sXXXX/ct.nii.gz + segmentations/*.nii.gz) → one nnU-Net dataset. */
export function convertTotalseg(
  store: FileStore,
  src: string,
  outRoot: string,
  opts: ConvertOptions & { system?: LabelSystem } = {},
): { dir: string; cases: number } {
  const dst = targetDir(store, outRoot, opts.id ?? 1, opts.name ?? 'TotalSegmentator');
  refuseNonEmpty(store, dst);
  const subjects = store
    .list(src)
    .filter((s) => !s.startsWith('.') && store.exists(store.join(src, s, 'ct.nii.gz')))
    .sort();
  if (subjects.length === 0) {
    fail(
      'NOT_FOUND',
      `convert totalseg: no <subject>/ct.nii.gz under '${src}' (expected the release layout sXXXX/ct.nii.gz + segmentations/)`,
    );
  }
  for (const s of subjects) {
    const ct = readNifti(store.read(store.join(src, s, 'ct.nii.gz'), `${s}/ct.nii.gz`));
    const segDir = store.join(src, s, 'segmentations');
    const masks = visible(listFiles(store, segDir), '.nii.gz').map((f) => ({
      className: f.slice(0, -'.nii.gz'.length),
      image: readNifti(store.read(store.join(segDir, f), `${s}/segmentations/${f}`)),
    }));
    const label = mergeClassMasks(masks, ct, opts.system ?? 'stunet104');
    writeOne(
      store,
      store.join(dst, 'imagesTr', `${s}_0000.nii.gz`),
      store.read(store.join(src, s, 'ct.nii.gz'), `${s}/ct.nii.gz`),
    );
    writeOne(store, store.join(dst, 'labelsTr', `${s}.nii.gz`), writeNifti(label));
  }
  writeOne(
    store,
    store.join(dst, 'dataset.json'),
    JSON.stringify(totalsegDatasetJson(subjects.length, opts.system), null, 4) + '\n',
  );
  return { dir: dst, cases: subjects.length };
}

/** A case's channels stacked into nnU-Net's (C, Z, Y, X), its spacing, and its label image. */
export function readCaseVolume(
  store: FileStore,
  datasetDir: string,
  c: DatasetDescription['cases'][number],
): { volume: Volume; spacingZYX: Vec3; label: NiftiImage } {
  const { images, label } = readCase(store, datasetDir, c);
  const views = images.map((im) => niftiToVolume(im));
  const first = views[0];
  if (first === undefined) fail('NOT_FOUND', `${c.id}: no image files`);
  const [, z, y, x] = first.volume.shape;
  const vox = z * y * x;
  const data = new Float32Array(views.length * vox);
  views.forEach((v, ch) => {
    if (v.volume.data.length !== vox) fail('SHAPE_MISMATCH', `${c.id}: channel ${ch} differs in shape`);
    data.set(v.volume.data, ch * vox);
  });
  return { volume: { data, shape: [views.length, z, y, x] }, spacingZYX: first.spacingZYX, label };
}

/**
 * The dataset fingerprint of a folder (one case in memory at a time). Refuses an invalid dataset with
 * every problem listed. `samplesPerCase` defaults to nnU-Net's 10e7 / numCases.
 */
export function fingerprintDatasetDir(
  store: FileStore,
  dir: string,
  opts: { samplesPerCase?: number | 'all' } = {},
): { desc: DatasetDescription; fingerprint: DatasetFingerprint } {
  const { desc, problems } = readDatasetDir(store, dir);
  failOnProblems(problems, `dataset '${dir}'`);
  if (desc === null) fail('BAD_INPUT', `dataset '${dir}' could not be read`);
  const n = opts.samplesPerCase ?? samplesPerCase(desc.cases.length);
  const cases = desc.cases.map((c) => {
    const { volume, spacingZYX, label } = readCaseVolume(store, dir, c);
    const seg = niftiToVolume(label).volume;
    if (seg.data.length !== volume.data.length / volume.shape[0])
      fail('SHAPE_MISMATCH', `${c.id}: label shape differs from the image`);
    return analyzeCase(volume, { data: Int16Array.from(seg.data), shape: seg.shape }, spacingZYX, n);
  });
  return { desc, fingerprint: combineFingerprints(cases, desc.json.channelNames.length) };
}
