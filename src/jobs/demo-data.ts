/**
 * Writes the demo's phantom dataset into a FileStore in nnU-Net v2 raw layout:
 *   <root>/dataset.json, imagesTr/phantom_NNN_0000.nii.gz, labelsTr/phantom_NNN.nii.gz (training) and
 *   imagesTs/…, labelsTs/… (held out: never seen by planning or training).
 * Cases are written atomically, so an interrupted run never leaves a truncated file; a complete folder
 * written with the same parameters is reused (the phantoms are deterministic in their seed).
 */
import { generatePhantom, phantomDatasetJson, phantomNifti } from '../demo/phantom.js';
import { writeNifti } from '../io/nifti.js';
import type { ProgressListener } from '../util/progress.js';
import { readText, type FileStore } from './store.js';

export interface PhantomDatasetOptions {
  readonly numTraining: number;
  readonly numTest: number;
  /** Case i uses seed `seed + i` (training first, then test). */
  readonly seed: number;
  readonly onProgress?: ProgressListener;
}

export interface PhantomDatasetFiles {
  readonly root: string;
  readonly trainingIds: string[];
  readonly testIds: string[];
  /** Cases written now (0 when the folder was complete already). */
  readonly written: number;
}

const STAMP = '.stunet-phantoms.json';

export function writePhantomDataset(
  store: FileStore,
  root: string,
  o: PhantomDatasetOptions,
): PhantomDatasetFiles {
  const ids = Array.from(
    { length: o.numTraining + o.numTest },
    (_, i) => `phantom_${String(i).padStart(3, '0')}`,
  );
  const trainingIds = ids.slice(0, o.numTraining);
  const testIds = ids.slice(o.numTraining);
  const stamp = JSON.stringify({ numTraining: o.numTraining, numTest: o.numTest, seed: o.seed, version: 1 });
  const join = (...parts: string[]): string => store.join(root, ...parts);
  if (store.exists(join(STAMP)) && readText(store, join(STAMP)) === stamp)
    return { root, trainingIds, testIds, written: 0 };
  const total = ids.length;
  ids.forEach((id, i) => {
    o.onProgress?.({ stage: 'phantoms', done: i, total, message: id });
    const { image, label } = phantomNifti(generatePhantom(id, o.seed + i));
    const split = i < o.numTraining ? 'Tr' : 'Ts';
    store.writeAll([
      { path: join(`images${split}`, `${id}_0000.nii.gz`), data: writeNifti(image) },
      { path: join(`labels${split}`, `${id}.nii.gz`), data: writeNifti(label) },
    ]);
  });
  o.onProgress?.({ stage: 'phantoms', done: total, total });
  store.writeAll([{ path: join('dataset.json'), data: phantomDatasetJson(o.numTraining, o.numTest) }]);
  store.writeAll([{ path: join(STAMP), data: stamp }]); // last: the folder is complete
  return { root, trainingIds, testIds, written: total };
}
