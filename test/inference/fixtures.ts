/** Loads test/fixtures/sliding-window (see its README.md for provenance); `.npy.gz` is gunzipped with fflate. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'fflate';
import { readNpy, type NpyArray } from '../../src/io/npy.js';
import { fixturePath } from '../helpers.js';

export function loadSw(name: string): NpyArray {
  const bytes = new Uint8Array(readFileSync(fixturePath('sliding-window', name)));
  return readNpy(name.endsWith('.gz') ? gunzipSync(bytes) : bytes);
}

export function loadSwFloat32(name: string): Float32Array {
  const a = loadSw(name);
  if (!(a.data instanceof Float32Array)) throw new Error(`${name}: expected float16/32 data, got ${a.dtype}`);
  return a.data;
}

export interface StepCase {
  readonly image_size: number[];
  readonly patch_size: number[];
  readonly step_size: number;
  readonly raw_call: number[][];
  readonly padded_image_size: number[];
  readonly after_padding: number[][];
}

export interface GaussianStats {
  readonly min: number;
  readonly max: number;
  readonly n_equal_min: number;
}

export interface SwResults {
  readonly v1_steps: StepCase[];
  readonly v2stu: { readonly steps: StepCase[]; readonly gaussian_stats: Record<string, GaussianStats> };
  readonly v2up: { readonly steps: StepCase[]; readonly gaussian_stats: Record<string, GaussianStats> };
  readonly v1_predict: { readonly n_tiles_per_axis: number[] };
  readonly diagnostic_float64_reaggregation: Record<'v2stu' | 'v2up', Record<string, number>>;
}

export const results = JSON.parse(
  readFileSync(fixturePath('sliding-window', 'results.json'), 'utf8'),
) as SwResults;
