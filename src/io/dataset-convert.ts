/**
 * Dataset conversions to nnU-Net v2, browser-safe parts (images and JSON in, images and JSON out):
 *   - Medical Segmentation Decathlon (nnunetv2/dataset_conversion/convert_MSD_dataset.py): 4D images are
 *     split into one 3D file per channel, dataset.json's `modality` becomes `channel_names` and the
 *     `{"0": "background"}` labels are inverted to `{"background": 0}`.
 *   - TotalSegmentator's release (sXXXX/ct.nii.gz + segmentations/<class>.nii.gz): the binary masks are
 *     merged into one label map in a label system's order (STU-Net's 104 classes by default); as in
 *     TotalSegmentator's own combine step, a voxel in two masks keeps the later (higher) label.
 * The file walking is in src/node/dataset-files.ts.
 */
import { fail } from '../util/errors.js';
import { labelNames, type LabelSystem } from './labels/index.js';
import { createNifti } from './nifti-volume.js';
import type { NiftiImage } from './nifti.js';

/** A 4D image (i, j, k, c) → c 3D images with the same affine and header; a 3D image → [itself]. */
export function splitChannels(image: NiftiImage): NiftiImage[] {
  const [ni, nj, nk, nc = 1, ...rest] = image.dims;
  if (ni === undefined || nj === undefined || nk === undefined || rest.length > 0) {
    fail(
      'UNSUPPORTED',
      `convert: image is ${image.dims.length}D (${image.dims.join('×')}); expected 3D or 4D`,
    );
  }
  if (image.dims.length === 3) return [image];
  const n = ni * nj * nk;
  const { scl_slope: slope, scl_inter: inter } = image.header;
  const scaled = !(slope === 0 || (slope === 1 && inter === 0)) && Number.isFinite(slope);
  const header = { ...image.header, dim: [3, ni, nj, nk, 1, 1, 1, 1] };
  return Array.from({ length: nc }, (_, c) =>
    createNifti({
      // scaled voxels are written as float32 (the scaled values); unscaled keep their stored type
      raw: scaled ? image.data.slice(c * n, (c + 1) * n) : image.raw.slice(c * n, (c + 1) * n),
      dims: [ni, nj, nk],
      affine: image.affine,
      header,
    }),
  );
}

/** MSD dataset.json → nnU-Net v2 dataset.json (numTraining recounted from the files converted). */
export function msdToV2DatasetJson(msd: unknown, numTraining: number): Record<string, unknown> {
  if (typeof msd !== 'object' || msd === null || Array.isArray(msd)) {
    fail('BAD_INPUT', 'convert msd: dataset.json must be a JSON object');
  }
  const src = msd as Record<string, unknown>;
  const modality = src['modality'] ?? src['channel_names'];
  const labels = src['labels'];
  if (typeof modality !== 'object' || modality === null || typeof labels !== 'object' || labels === null) {
    fail(
      'BAD_INPUT',
      'convert msd: dataset.json needs "modality" ({"0": "CT"}) and "labels" ({"0": "background", …})',
    );
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) {
    if (k === 'modality' || k === 'training' || k === 'test') continue;
    out[k] = v;
  }
  const inverted: Record<string, number> = {};
  for (const [value, name] of Object.entries(labels as Record<string, unknown>)) {
    const iv = Number(value);
    if (!Number.isInteger(iv) || typeof name !== 'string') {
      fail(
        'BAD_INPUT',
        `convert msd: labels entry ${JSON.stringify(value)}: ${JSON.stringify(name)} is not {"<int>": "<name>"}`,
      );
    }
    inverted[name] = iv;
  }
  out['labels'] = inverted;
  out['channel_names'] = modality;
  out['numTraining'] = numTraining;
  out['file_ending'] = '.nii.gz';
  return out;
}

/** nnU-Net's `Dataset{id:03d}_{name}` folder name. */
export function datasetFolderName(id: number, name: string): string {
  if (!Number.isInteger(id) || id < 0 || id > 999) fail('BAD_INPUT', `dataset id must be 0..999, got ${id}`);
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) {
    fail('BAD_INPUT', `dataset name '${name}' must be letters, digits, '-' or '_' (no spaces)`);
  }
  return `Dataset${String(id).padStart(3, '0')}_${name}`;
}

/** `TaskXX_Name` → {id, name} (convert_MSD_dataset: `task[4:]` is the id). */
export function parseMsdTaskName(folder: string): { id: number; name: string } {
  const m = /^Task(\d+)_(.+)$/.exec(folder);
  if (m === null) {
    fail('BAD_INPUT', `convert msd: folder '${folder}' is not named TaskXX_Name; pass --id and --name`);
  }
  return { id: Number(m[1]), name: m[2] ?? '' };
}

/**
 * Merges TotalSegmentator binary masks (class name → mask over the CT's grid) into one uint8 label map in
 * `system` order. Classes absent from the case stay background; a name not in the system is refused.
 */
export function mergeClassMasks(
  masks: readonly { className: string; image: NiftiImage }[],
  like: NiftiImage,
  system: LabelSystem = 'stunet104',
): NiftiImage {
  const names = labelNames(system);
  const index = new Map(names.map((n, i) => [n, i]));
  const n = like.data.length;
  const out = new Uint8Array(n);
  const sorted = masks
    .map((m) => {
      const v = index.get(m.className);
      if (v === undefined || v === 0) {
        fail('BAD_INPUT', `convert totalseg: segmentations/${m.className}.nii.gz is not a ${system} class`);
      }
      return { ...m, value: v };
    })
    .sort((a, b) => a.value - b.value);
  for (const m of sorted) {
    if (m.image.data.length !== n || m.image.dims.join() !== like.dims.join()) {
      fail(
        'SHAPE_MISMATCH',
        `convert totalseg: mask ${m.className} is ${m.image.dims.join('×')}, the CT is ${like.dims.join('×')}`,
      );
    }
    const d = m.image.data;
    for (let i = 0; i < n; i++) if ((d[i] ?? 0) > 0) out[i] = m.value;
  }
  return createNifti({ raw: out, dims: like.dims, affine: like.affine, header: like.header });
}

/** dataset.json of a merged TotalSegmentator dataset: channel CT, labels in `system` order. */
export function totalsegDatasetJson(
  numTraining: number,
  system: LabelSystem = 'stunet104',
): Record<string, unknown> {
  const labels: Record<string, number> = {};
  labelNames(system).forEach((name, i) => (labels[name] = i));
  return {
    channel_names: { '0': 'CT' },
    labels,
    numTraining,
    file_ending: '.nii.gz',
    name: 'TotalSegmentator',
    description: `TotalSegmentator release merged into one label map in ${system} order (stunet convert --from totalseg)`,
  };
}
