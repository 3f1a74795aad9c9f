/**
 * `stunet predict --dicomweb <url> --study <uid> [--series <uid>] --output-type dicom-seg --store`: the series
 * is chosen and retrieved into a temporary folder, predicted as a DICOM folder, and its DICOM-SEG/RTSTRUCT
 * stored back into the study (src/jobs/dicomweb-series.ts). Credentials: `user:password@` in the URL, or
 * STUNET_DICOMWEB_USER + STUNET_DICOMWEB_PASSWORD (Basic), or STUNET_DICOMWEB_TOKEN (Bearer), so no secret
 * needs to be on the command line; HTTPS trusts `--ca-file` or, for a test server, `--insecure`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { DicomWebAuth } from '../io/dicom/web/url.js';
import type { DicomWebClient } from '../io/dicom/web/client.js';
import {
  chooseDicomWebSeries,
  describeSeries,
  fetchDicomWebSeries,
  storeDicomOutputs,
} from '../jobs/dicomweb-series.js';
import type { OutputType } from '../jobs/case-outputs.js';
import type { PredictRun } from '../jobs/predict-run.js';
import { nodeDicomWebClient } from '../node/dicomweb.js';
import { nodeStore } from '../node/file-store.js';
import { availableMemoryBytes } from '../node/memory.js';
import { fail } from '../util/errors.js';
import { consoleProgress } from '../util/progress.js';

export interface DicomWebCliOptions {
  input?: string;
  dicomweb?: string;
  study?: string;
  series?: string;
  store?: boolean;
  caFile?: string;
  insecure?: boolean;
}

export function addDicomWebOptions(cmd: Command): Command {
  return cmd
    .option('--dicomweb <url>', 'read the series from a DICOMweb server (QIDO-RS, WADO-RS) instead of -i')
    .option('--study <uid>', '--dicomweb: the StudyInstanceUID (--series chooses a series in it)')
    .option('--store', '--dicomweb: store the DICOM-SEG / RTSTRUCT back into the study (STOW-RS)')
    .option('--ca-file <pem>', '--dicomweb over https: the certificate authorities to trust')
    .option('--insecure', '--dicomweb over https: accept any certificate (test servers only)');
}

/** Basic or Bearer from the environment (STUNET_DICOMWEB_TOKEN, or _USER and _PASSWORD), else none. */
function authFromEnv(env: NodeJS.ProcessEnv): DicomWebAuth | undefined {
  const token = env['STUNET_DICOMWEB_TOKEN'];
  const user = env['STUNET_DICOMWEB_USER'];
  const password = env['STUNET_DICOMWEB_PASSWORD'];
  if (token !== undefined && token !== '') return { kind: 'bearer', token };
  if (user !== undefined && user !== '') return { kind: 'basic', user, password: password ?? '' };
  return undefined;
}

/** The combinations refused before anything is fetched. */
function checkDicomWebOptions(o: DicomWebCliOptions, types: readonly OutputType[] | undefined): void {
  const web = o.dicomweb !== undefined;
  if (web && o.input !== undefined) fail('BAD_INPUT', 'predict: give -i or --dicomweb, not both');
  if (web && o.study === undefined) fail('BAD_INPUT', '--dicomweb needs --study <StudyInstanceUID>');
  const stray = (['study', 'store', 'caFile', 'insecure'] as const).find((k) => o[k] !== undefined);
  if (!web && stray !== undefined)
    fail('BAD_INPUT', `--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to --dicomweb`);
  if (o.store === true && !(types ?? []).some((t) => t !== 'nifti'))
    fail('BAD_INPUT', '--store sends DICOM-SEG or RTSTRUCT back: add --output-type dicom-seg (or rtstruct)');
}

export interface DicomWebInput {
  /** The retrieved series: a DICOM folder to predict. */
  readonly folder: string;
  readonly study: string;
  readonly client: DicomWebClient;
  /** Removes the temporary folder. */
  cleanup(): void;
}

/** With --dicomweb: the series chosen, retrieved into a temporary folder; else null. */
export async function dicomWebInput(
  o: DicomWebCliOptions,
  types: readonly OutputType[] | undefined,
  signal?: AbortSignal,
): Promise<DicomWebInput | null> {
  checkDicomWebOptions(o, types);
  if (o.dicomweb === undefined) return null;
  const study = o.study ?? fail('BAD_INPUT', '--dicomweb needs --study');
  const auth = authFromEnv(process.env);
  const client = nodeDicomWebClient({
    url: o.dicomweb,
    ...(auth === undefined ? {} : { auth }),
    ...(o.caFile === undefined ? {} : { caFile: o.caFile }),
    ...(o.insecure === true ? { insecure: true } : {}),
  });
  const series = await chooseDicomWebSeries(
    client,
    { study, ...(o.series === undefined ? {} : { series: o.series }) },
    signal,
  );
  console.log(`dicomweb: ${client.url}: study ${study}, series ${describeSeries(series)}`);
  const dir = mkdtempSync(join(tmpdir(), 'stunet-dicomweb-'));
  const cleanup = (): void => {
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const folder = await fetchDicomWebSeries(nodeStore, client, series, dir, {
      onProgress: consoleProgress(process.stderr),
      // the answer is held whole before it is written: refuse one larger than the memory there is
      maxBytes: availableMemoryBytes(),
      ...(signal === undefined ? {} : { signal }),
    });
    return { folder, study, client, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

/** --store: each predicted case's DICOM outputs, STOW-RS into the study; one line per case. */
export async function storeOutputs(web: DicomWebInput, run: PredictRun, signal?: AbortSignal): Promise<void> {
  for (const c of run.cases) {
    if (c.status === 'failed') continue;
    const r = await storeDicomOutputs(nodeStore, web.client, web.study, c.files, signal);
    console.log(
      `dicomweb: stored ${r.stored.length} object(s) in study ${web.study}: ${r.stored.join(', ')}`,
    );
  }
}
