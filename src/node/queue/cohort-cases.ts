/**
 * The cases of a cohort and their job ids. A cohort is a folder of cases (nnU-Net naming, as `stunet
 * predict -i <folder>` reads it), one image file, or a list file: one case per line, its channel files
 * comma-separated, relative to the list's folder (`#` comments and blank lines skipped).
 *
 * A case's job id is the sha256 of what decides its outputs: the bytes of its input files, the model's
 * files, the options that change what is written, and the output path. Resubmitting a cohort therefore
 * finds its finished cases by id; a changed image, model or option makes a new job.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { niftiStem } from '../../jobs/case-outputs.js';
import { CHANNEL_SUFFIX, groupCaseFiles, listNiftiFiles } from '../../jobs/predict-files.js';
import { fail } from '../../util/errors.js';
import { sha256File } from '../download.js';
import { nodeStore } from '../file-store.js';
import type { CaseSource } from './jobs.js';

export interface CohortCase {
  readonly name: string;
  readonly source: CaseSource;
  /** The label map's path (absolute). */
  readonly output: string;
}

const IMAGE = /\.(nii(\.gz)?|hdr)$/i;

/** One case per line of a list file: `a.nii.gz` or `a_0000.nii.gz,a_0001.nii.gz`. */
function listedCases(listPath: string): { name: string; files: string[] }[] {
  const base = dirname(listPath);
  const cases: { name: string; files: string[] }[] = [];
  readFileSync(listPath, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      const text = line.trim();
      if (text === '' || text.startsWith('#')) return;
      const files = text.split(',').map((f) => resolve(base, f.trim()));
      const bad = files.find((f) => !IMAGE.test(f));
      if (bad !== undefined)
        fail('BAD_INPUT', `${listPath}:${i + 1}: '${bad}' is not a .nii, .nii.gz or .hdr file`);
      const first = files[0] ?? '';
      cases.push({ name: niftiStem(first).replace(CHANNEL_SUFFIX, '$1'), files });
    });
  return cases;
}

/**
 * The cases of `input` (a folder, an image, or a list file) with their outputs in `outDir`
 * (`<case>.nii.gz`), checked: files exist, names are unique, each case has `channels` files.
 */
export function cohortCases(input: string, outDir: string, channels: number): CohortCase[] {
  const path = resolve(input);
  if (!existsSync(path)) fail('NOT_FOUND', `queue submit: '${input}' does not exist`);
  const found = statSync(path).isDirectory()
    ? groupCaseFiles(nodeStore, listNiftiFiles(nodeStore, path))
    : IMAGE.test(path)
      ? [{ name: niftiStem(path).replace(CHANNEL_SUFFIX, '$1'), files: [path] }]
      : listedCases(path);
  if (found.length === 0) fail('BAD_INPUT', `queue submit: '${input}' lists no case`);
  const names = new Set<string>();
  return found.map((c) => {
    if (names.has(c.name))
      fail('BAD_INPUT', `queue submit: two cases named '${c.name}' would write the same output`);
    names.add(c.name);
    for (const f of c.files) if (!existsSync(f)) fail('NOT_FOUND', `queue submit: '${f}' does not exist`);
    if (c.files.length !== channels)
      fail(
        'BAD_INPUT',
        `queue submit: the model takes ${channels} input channel(s), case '${c.name}' has ` +
          `${c.files.length} (${c.files.join(', ')})`,
      );
    return {
      name: c.name,
      source: { kind: 'files', paths: [...c.files] },
      output: join(resolve(outDir), `${c.name}.nii.gz`),
    };
  });
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The files that carry an image's bytes: a .hdr brings its .img (or .img.gz). */
function imageFiles(path: string): string[] {
  if (!/\.hdr$/i.test(path)) return [path];
  return [path, ...['.img', '.img.gz'].map((e) => path.replace(/\.hdr$/i, e)).filter(existsSync)];
}

/** sha256 over the bytes of a case's input files, in channel order. */
export function sourceSha256(source: CaseSource): string {
  return sha256(source.paths.flatMap(imageFiles).map(sha256File).join(','));
}

/** The files that define a checkpoint: weights, and the plans and metadata beside them. */
function modelFiles(path: string): string[] {
  const dir = statSync(path).isDirectory() ? path : dirname(path);
  const own = statSync(path).isDirectory()
    ? ['model.json', 'weights.safetensors', 'checkpoint_final.pth'].map((f) => join(dir, f))
    : [path, `${path}.pkl`];
  const beside = /\.pth$/i.test(path) || statSync(path).isDirectory() ? ['plans.json', 'dataset.json'] : [];
  return [...own, ...beside.map((f) => join(dir, f))].filter(existsSync);
}

/** sha256 over the model's files (every member of an ensemble) and a --plans file. */
export function modelSha256(members: readonly string[], plans?: string): string {
  const files = [...members.flatMap(modelFiles), ...(plans === undefined ? [] : [plans])];
  return sha256(files.map((f) => sha256File(f)).join(','));
}

/** JSON with object keys sorted (at every depth): equal values, equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** A case's job id: `case-` and the sha256 of its inputs, model, output-changing options and output. */
export function caseJobId(parts: {
  inputs: string;
  model: string;
  options: unknown;
  output: string;
}): string {
  return `case-${sha256(canonicalJson(parts))}`;
}
