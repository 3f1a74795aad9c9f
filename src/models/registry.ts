/**
 * The released STU-Net models as data: the four TotalSegmentator checkpoints (S, B, L, H), their files,
 * sizes and hashes where known, and where to get them. Browser-safe: nothing here reads a file or the
 * network; the Node host (`node/model-cache.ts`, `node/download.ts`) does that.
 *
 * Sources (read 2025, see docs/models.md):
 * - uni-medical/STU-Net README @ 0652eaf "TotalSegmentator trained Models": Baidu Netdisk and Google Drive
 *   links per scale; the files are `{small,base,large,huge}_ep4k.model` (nnU-Net v1, 4000 epochs), used
 *   with `plan_files/<same>.model.pkl` from that repository (embedded in `plan-files.ts`).
 * - uni-medical/MedIM `medim/models/_hf_utils.py`: the Hugging Face mirror, repo `ziyanhuang/STU-Net`,
 *   the same file names.
 * - uni-medical/MedIM `tests/data/small_ep4k.model` (a git-LFS pointer, commit eebfb57): the S file's
 *   sha256 and size; the same sha256 is pinned for `huggingface.co/ziyanhuang/STU-Net/resolve/main/
 *   small_ep4k.model` by third-party code that checks it. No published hash or size is known for B, L, H:
 *   they are left null and recorded at the first download (the cache's manifest), never guessed.
 */
import type { LabelSystem } from '../io/labels/index.js';
import type { ScaleName } from '../model/scales.js';
import { RELEASED_PLAN_FILES, type EmbeddedFile } from './plan-files.js';

export type ModelSource =
  /** Downloadable: `https://huggingface.co/<repo>/resolve/main/<file>` (or `$HF_ENDPOINT` instead of the host). */
  | { readonly kind: 'huggingface'; readonly repo: string; readonly file: string }
  /** Downloadable when Google Drive serves it without a sign-in (large files may get a confirm page). */
  | { readonly kind: 'google-drive'; readonly id: string }
  /** By hand only: Baidu Netdisk needs its client; the extraction code is `code`. */
  | { readonly kind: 'baidu'; readonly url: string; readonly code: string };

export interface RegistryFile {
  readonly file: string;
  /** Exact size in bytes; null when no source publishes it. */
  readonly bytes: number | null;
  /** sha256 (hex) of the released file; null when unknown (then recorded at the first download). */
  readonly sha256: string | null;
  /** Where `bytes`/`sha256` come from, for the error message of a mismatch. */
  readonly pinnedBy: string | null;
}

export interface RegistryModel {
  /** Canonical name, also the cache folder: `STU-Net-S`. */
  readonly name: string;
  readonly scale: ScaleName;
  /** Other names `-m` accepts, compared case-insensitively (the scale letter among them). */
  readonly aliases: readonly string[];
  readonly trainer: string;
  readonly parameters: number;
  readonly description: string;
  readonly numClasses: number;
  readonly labels: LabelSystem;
  readonly patchSizeZYX: readonly [number, number, number];
  readonly checkpoint: RegistryFile;
  /** About 8 bytes per parameter: float32 weights plus the SGD momentum buffers (S: 117.5 MB measured). */
  readonly estimatedBytes: number;
  /** `<checkpoint>.pkl`, the nnU-Net v1 plans, written beside the checkpoint from the embedded bytes. */
  readonly plansFile: { readonly file: string; readonly embedded: EmbeddedFile };
  /** In the order a download tries them. */
  readonly sources: readonly ModelSource[];
}

const HF_REPO = 'ziyanhuang/STU-Net';
const MEDIM_PIN = 'uni-medical/MedIM tests/data/small_ep4k.model (git-LFS pointer)';

interface Release {
  scale: ScaleName;
  word: 'small' | 'base' | 'large' | 'huge';
  parameters: number;
  drive: string;
  baidu: string;
  code: string;
  bytes: number | null;
  sha256: string | null;
}

const RELEASES: readonly Release[] = [
  {
    scale: 'S',
    word: 'small',
    parameters: 14_596_941,
    drive: '1HReH6dDrEuXgHPrsw7OrHSjvEUF3f4mv',
    baidu: 'https://pan.baidu.com/s/1ZBfOhaTvjvhcgXKGNe_gWg',
    code: 'soz7',
    bytes: 117_497_661,
    sha256: 'f440f401bf4cac1d1d6f7c4635542ef057193a5f96c0b3c661a6179afeab7be6',
  },
  {
    scale: 'B',
    word: 'base',
    parameters: 58_262_669,
    drive: '1BHCp1Ort-OaVFwaZmvsG4qHiKiPeNb4h',
    baidu: 'https://pan.baidu.com/s/1a17XmOGiGSgbEvK-acSOSg',
    code: '91w3',
    bytes: null,
    sha256: null,
  },
  {
    scale: 'L',
    word: 'large',
    parameters: 440_302_605,
    drive: '1KA1eXWWf_xAoJg5KHYrxTmfiz7wxGhHS',
    baidu: 'https://pan.baidu.com/s/1WOLoTrzCLYyJXZnITGK6jg',
    code: '91pt',
    bytes: null,
    sha256: null,
  },
  {
    scale: 'H',
    word: 'huge',
    parameters: 1_457_326_221,
    drive: '1Qrq7oGPJ7ileFHWOAxwpeWdaB6hySptU',
    baidu: 'https://pan.baidu.com/s/1CinTvceZuvdEEWGcaJEuEA',
    code: 'bk9n',
    bytes: null,
    sha256: null,
  },
];

function registryModel(r: Release): RegistryModel {
  const file = `${r.word}_ep4k.model`;
  return {
    name: `STU-Net-${r.scale}`,
    scale: r.scale,
    aliases: [r.scale, r.word, `stunet-${r.scale}`, `${r.word}_ep4k`, file],
    trainer: `STUNetTrainer_${r.word}`,
    parameters: r.parameters,
    description: `STU-Net-${r.scale}, TotalSegmentator (104 classes), 4000 epochs, nnU-Net v1`,
    numClasses: 105,
    labels: 'stunet104',
    patchSizeZYX: [128, 128, 128],
    checkpoint: { file, bytes: r.bytes, sha256: r.sha256, pinnedBy: r.sha256 === null ? null : MEDIM_PIN },
    estimatedBytes: r.bytes ?? r.parameters * 8,
    plansFile: { file: `${file}.pkl`, embedded: RELEASED_PLAN_FILES[r.word] },
    sources: [
      { kind: 'huggingface', repo: HF_REPO, file },
      { kind: 'google-drive', id: r.drive },
      { kind: 'baidu', url: r.baidu, code: r.code },
    ],
  };
}

export const REGISTRY: readonly RegistryModel[] = RELEASES.map(registryModel);

/** The registry model a name stands for (canonical name or alias, any case); null when none. */
export function findRegistryModel(
  name: string,
  registry: readonly RegistryModel[] = REGISTRY,
): RegistryModel | null {
  const n = name.toLowerCase();
  return (
    registry.find((m) => m.name.toLowerCase() === n || m.aliases.some((a) => a.toLowerCase() === n)) ?? null
  );
}

/** A name the cache accepts for a model installed by hand: letters, digits, `.`, `_`, `-`. */
export function isValidModelName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name) && !name.endsWith('.');
}

/** The URL a downloadable source is fetched from; null for a source that needs a person (Baidu). */
export function sourceUrl(source: ModelSource, hfEndpoint = 'https://huggingface.co'): string | null {
  switch (source.kind) {
    case 'huggingface':
      return `${hfEndpoint.replace(/\/+$/, '')}/${source.repo}/resolve/main/${source.file}`;
    case 'google-drive':
      // The direct endpoint; confirm=t skips the "can't scan for viruses" page where Drive allows it.
      return `https://drive.usercontent.google.com/download?id=${source.id}&export=download&confirm=t`;
    case 'baidu':
      return null;
  }
}

/** Where a person opens a source in a browser (the README's links). */
export function sourcePage(source: ModelSource): string {
  switch (source.kind) {
    case 'huggingface':
      return `https://huggingface.co/${source.repo}/blob/main/${source.file}`;
    case 'google-drive':
      return `https://drive.google.com/file/d/${source.id}/view`;
    case 'baidu':
      return `${source.url}?pwd=${source.code} (extraction code ${source.code})`;
  }
}

/** What the first bytes of a download are: a torch checkpoint (zip or legacy pickle), an HTML page or else. */
export function sniffCheckpoint(head: Uint8Array): 'zip' | 'pickle' | 'html' | 'unknown' {
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'zip';
  if (head[0] === 0x80 && head[1] !== undefined && head[1] >= 2 && head[1] <= 5) return 'pickle';
  let text = '';
  for (const b of head.subarray(0, 512)) text += String.fromCharCode(b);
  // A markup page (Google Drive's confirm or sign-in page, an error page), after a BOM and white space.
  return /^(\xEF\xBB\xBF)?\s*</.test(text) ? 'html' : 'unknown';
}
