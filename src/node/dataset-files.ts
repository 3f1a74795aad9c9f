/**
 * Node adapter for datasets on disk: reading and validating an nnU-Net v2 raw dataset folder, and the
 * MSD / TotalSegmentator converters (the format logic is in src/io/dataset*.ts).
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fail } from '../util/errors.js';
import {
  checkConsecutiveLabels,
  checkDatasetFiles,
  describeDataset,
  expectedLabelValues,
  failOnProblems,
  parseDatasetJson,
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
import { exists, isDirectory, readBytes, readText, writeAtomic } from './fs.js';

function listFiles(dir: string): string[] {
  return isDirectory(dir) ? readdirSync(dir).sort() : [];
}

/** Reads dataset.json and the file names; problems (not exceptions) for anything wrong. */
export function readDatasetDir(dir: string): { desc: DatasetDescription | null; problems: DatasetProblem[] } {
  const problems: DatasetProblem[] = [];
  if (!isDirectory(dir)) fail('NOT_FOUND', `dataset folder '${dir}' does not exist`);
  const jsonPath = join(dir, 'dataset.json');
  if (!exists(jsonPath)) {
    problems.push({
      kind: 'missing-file',
      message: `${jsonPath} is missing (nnU-Net v2 datasets need a dataset.json)`,
    });
  }
  for (const sub of ['imagesTr', 'labelsTr']) {
    if (!isDirectory(join(dir, sub)))
      problems.push({ kind: 'missing-file', message: `${join(dir, sub)}/ is missing` });
  }
  if (!exists(jsonPath)) return { desc: null, problems };
  const json = parseDatasetJson(readText(jsonPath, 'dataset.json'), problems);
  if (json === null) return { desc: null, problems };
  problems.push(...checkConsecutiveLabels(json.labels));
  const labelFiles = listFiles(join(dir, 'labelsTr'));
  const desc = describeDataset(json, listFiles(join(dir, 'imagesTr')), labelFiles);
  problems.push(...checkDatasetFiles(desc, labelFiles));
  return { desc, problems };
}

function tryRead(dir: string, rel: string, caseId: string, problems: DatasetProblem[]): NiftiImage | null {
  try {
    return readNifti(readBytes(join(dir, rel), rel));
  } catch (e) {
    problems.push({ kind: 'unreadable-file', caseId, message: `${caseId}: ${rel}: ${(e as Error).message}` });
    return null;
  }
}

/** Every problem in the dataset: names and dataset.json first, then each case's geometry and values. */
export function validateDatasetDir(dir: string): {
  desc: DatasetDescription | null;
  problems: DatasetProblem[];
} {
  const { desc, problems } = readDatasetDir(dir);
  if (desc === null) return { desc, problems };
  const expected = expectedLabelValues(desc.json.labels);
  for (const c of desc.cases) {
    const images: { name: string; image: NiftiImage }[] = [];
    for (const rel of c.images) {
      const image = tryRead(dir, rel, c.id, problems);
      if (image !== null) images.push({ name: rel, image });
    }
    const labelImage = c.label === null ? null : tryRead(dir, c.label, c.id, problems);
    const label = c.label === null || labelImage === null ? null : { name: c.label, image: labelImage };
    problems.push(...checkCaseGeometry(c.id, images, label));
    problems.push(...checkCaseValues(c.id, images, label, expected));
  }
  return { desc, problems };
}

/** The images (channel order) and label of one case. */
export function readCase(
  dir: string,
  c: DatasetDescription['cases'][number],
): { images: NiftiImage[]; label: NiftiImage } {
  if (c.label === null) fail('NOT_FOUND', `${c.id}: no label file in labelsTr`);
  return {
    images: c.images.map((rel) => readNifti(readBytes(join(dir, rel), rel))),
    label: readNifti(readBytes(join(dir, c.label), c.label)),
  };
}

const visible = (names: readonly string[], ending: string): string[] =>
  names.filter((n) => !n.startsWith('.') && !n.startsWith('_') && n.endsWith(ending));

export interface ConvertOptions {
  readonly id?: number;
  readonly name?: string;
}

/** MSD TaskXX_Name → `<outRoot>/DatasetXXX_Name` (or `outRoot` itself when it is named Dataset…). */
function targetDir(outRoot: string, id: number, name: string): string {
  return /^Dataset\d{3}_/.test(basename(outRoot)) ? outRoot : join(outRoot, datasetFolderName(id, name));
}

function refuseNonEmpty(dst: string): void {
  if (isDirectory(dst) && readdirSync(dst).length > 0) {
    fail('BAD_INPUT', `output folder '${dst}' exists and is not empty; choose another -o or remove it`);
  }
}

export function convertMsd(
  src: string,
  outRoot: string,
  opts: ConvertOptions = {},
): { dir: string; cases: number } {
  for (const sub of ['imagesTr', 'labelsTr']) {
    if (!isDirectory(join(src, sub)))
      fail('NOT_FOUND', `convert msd: '${join(src, sub)}' is missing (is this an MSD TaskXX_Name folder?)`);
  }
  const task =
    opts.id !== undefined && opts.name !== undefined
      ? { id: opts.id, name: opts.name }
      : parseMsdTaskName(basename(src));
  const dst = targetDir(outRoot, opts.id ?? task.id, opts.name ?? task.name);
  refuseNonEmpty(dst);
  const msdJson: unknown = JSON.parse(readText(join(src, 'dataset.json'), 'MSD dataset.json'));
  const images = visible(listFiles(join(src, 'imagesTr')), '.nii.gz');
  const labels = new Set(visible(listFiles(join(src, 'labelsTr')), '.nii.gz'));
  for (const [folder, out] of [
    ['imagesTr', 'imagesTr'],
    ['imagesTs', 'imagesTs'],
  ] as const) {
    for (const name of visible(listFiles(join(src, folder)), '.nii.gz')) {
      const image = readNifti(readBytes(join(src, folder, name), name));
      const stem = name.slice(0, -'.nii.gz'.length);
      splitChannels(image).forEach((ch, i) => {
        writeAtomic(join(dst, out, `${stem}_${String(i).padStart(4, '0')}.nii.gz`), writeNifti(ch));
      });
    }
  }
  mkdirSync(join(dst, 'labelsTr'), { recursive: true });
  for (const name of labels) copyFileSync(join(src, 'labelsTr', name), join(dst, 'labelsTr', name));
  const json = msdToV2DatasetJson(msdJson, images.length);
  writeAtomic(join(dst, 'dataset.json'), JSON.stringify(json, null, 4) + '\n');
  return { dir: dst, cases: images.length };
}

/** TotalSegmentator release folder (sXXXX/ct.nii.gz + segmentations/*.nii.gz) → one nnU-Net dataset. */
export function convertTotalseg(
  src: string,
  outRoot: string,
  opts: ConvertOptions & { system?: LabelSystem } = {},
): { dir: string; cases: number } {
  const dst = targetDir(outRoot, opts.id ?? 1, opts.name ?? 'TotalSegmentator');
  refuseNonEmpty(dst);
  const subjects = readdirSync(src)
    .filter((s) => !s.startsWith('.') && exists(join(src, s, 'ct.nii.gz')))
    .sort();
  if (subjects.length === 0) {
    fail(
      'NOT_FOUND',
      `convert totalseg: no <subject>/ct.nii.gz under '${src}' (expected the release layout sXXXX/ct.nii.gz + segmentations/)`,
    );
  }
  for (const s of subjects) {
    const ct = readNifti(readBytes(join(src, s, 'ct.nii.gz'), `${s}/ct.nii.gz`));
    const segDir = join(src, s, 'segmentations');
    const masks = visible(listFiles(segDir), '.nii.gz').map((f) => ({
      className: f.slice(0, -'.nii.gz'.length),
      image: readNifti(readBytes(join(segDir, f), `${s}/segmentations/${f}`)),
    }));
    const label = mergeClassMasks(masks, ct, opts.system ?? 'stunet104');
    mkdirSync(join(dst, 'imagesTr'), { recursive: true });
    copyFileSync(join(src, s, 'ct.nii.gz'), join(dst, 'imagesTr', `${s}_0000.nii.gz`));
    writeAtomic(join(dst, 'labelsTr', `${s}.nii.gz`), writeNifti(label));
  }
  writeAtomic(
    join(dst, 'dataset.json'),
    JSON.stringify(totalsegDatasetJson(subjects.length, opts.system), null, 4) + '\n',
  );
  return { dir: dst, cases: subjects.length };
}

/**
 * The dataset fingerprint of a folder (one case in memory at a time). Refuses an invalid dataset with
 * every problem listed. `samplesPerCase` defaults to nnU-Net's 10e7 / numCases.
 */
export function fingerprintDatasetDir(
  dir: string,
  opts: { samplesPerCase?: number | 'all' } = {},
): { desc: DatasetDescription; fingerprint: DatasetFingerprint } {
  const { desc, problems } = readDatasetDir(dir);
  failOnProblems(problems, `dataset '${dir}'`);
  if (desc === null) fail('BAD_INPUT', `dataset '${dir}' could not be read`);
  const n = opts.samplesPerCase ?? samplesPerCase(desc.cases.length);
  const cases = desc.cases.map((c) => {
    const { images, label } = readCase(dir, c);
    const views = images.map((im) => niftiToVolume(im));
    const first = views[0];
    if (first === undefined) fail('NOT_FOUND', `${c.id}: no image files`);
    const [, z, y, x] = first.volume.shape;
    const vox = z * y * x;
    const data = new Float32Array(views.length * vox);
    views.forEach((v, i) => {
      if (v.volume.data.length !== vox)
        fail('SHAPE_MISMATCH', `${c.id}: channel ${i} has a different shape than channel 0`);
      data.set(v.volume.data, i * vox);
    });
    const seg = niftiToVolume(label).volume;
    if (seg.data.length !== vox) fail('SHAPE_MISMATCH', `${c.id}: label shape differs from the image`);
    return analyzeCase(
      { data, shape: [views.length, z, y, x] },
      { data: Int16Array.from(seg.data), shape: seg.shape },
      first.spacingZYX,
      n,
    );
  });
  return { desc, fingerprint: combineFingerprints(cases, desc.json.channelNames.length) };
}
