import type { Command } from 'commander';
import { join } from 'node:path';
import { fail } from '../util/errors.js';
import { labelOrRegionKey, summaryToJson, type CaseResult, type LabelOrRegion } from '../evaluation/index.js';
import { labelNames } from '../io/labels/index.js';
import { parseLabelSystem } from '../io/labels/schemes.js';
import { absentLabels, evaluateFolders, datasetLabelNames } from '../jobs/evaluate.js';
import { nodeStore } from '../node/file-store.js';
import { writeAtomic } from '../node/fs.js';
import { availableMemoryBytes } from '../node/memory.js';
import { parseIntList } from './args.js';

interface EvaluateOptions {
  pred: string;
  ref: string;
  labels?: string;
  regions?: string;
  ignoreLabel?: string;
  nsdTolerance: string;
  nsd: boolean;
  map?: string;
  output?: string;
  json?: boolean;
  names?: string;
}

/** `1,2;3` → [[1, 2], [3]] (nnU-Net regions: each group counts as one foreground). */
function parseRegions(text: string): number[][] {
  return text.split(';').map((g) => parseIntList('--regions', g));
}

function parseNonNegativeInt(option: string, text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < 0)
    fail('BAD_INPUT', `${option}: expected a non-negative integer, got '${text}'`);
  return v;
}

function parseTolerance(text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0)
    fail('BAD_INPUT', `--nsd-tolerance: expected a distance in mm ≥ 0, got '${text}'`);
  return v;
}

const fmt = (v: number | undefined): string =>
  v === undefined ? '-' : Number.isNaN(v) ? 'nan' : v.toFixed(4);

/** Foreground mean of one case (nanmean over its labels), for the per-case line. */
function caseMean(c: CaseResult, metric: 'Dice' | 'NSD'): number {
  const values = c.metrics.map((m) => m.metrics[metric] ?? NaN).filter((v) => !Number.isNaN(v));
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description(
      "Dice, IoU, counts and Normalized Surface Dice per case and label, summary.json in nnU-Net v2's layout",
    )
    .requiredOption('--pred <dir>', 'predicted label maps, <case>.nii.gz')
    .requiredOption('--ref <dir>', 'reference label maps, <case>.nii.gz (same case names, same geometry)')
    .option('--labels <1,2,3>', 'labels to evaluate (default: every non-zero label found in the references)')
    .option('--regions <"1,2;3">', 'regions to evaluate: label groups separated by ";", each counted as one')
    .option('--ignore-label <n>', 'reference voxels with this value are left out of every metric')
    .option('--nsd-tolerance <mm>', 'Normalized Surface Dice tolerance in mm', '1')
    .option('--no-nsd', 'skip NSD (Dice/IoU/counts only; faster)')
    .option(
      '--map <dataset>',
      "predictions are STU-Net 104-class maps: map both into this dataset's labels (e.g. Task011_BTCV)",
    )
    .option(
      '--names <system>',
      'label names for the table: stunet, totalseg-v1 or totalseg-v2 (default: dataset.json beside --ref)',
    )
    .option('-o, --output <summary.json>', 'where to write the summary (default: <pred>/summary.json)')
    .option('--json', 'print the summary JSON on stdout instead of the table (case lines go to stderr)')
    .action((o: EvaluateOptions) => {
      // Both may be given: labels first, then regions (nnU-Net keys "3" and "(2, 3)").
      const chosen: LabelOrRegion[] = [
        ...(o.labels === undefined ? [] : parseIntList('--labels', o.labels)),
        ...(o.regions === undefined ? [] : parseRegions(o.regions)),
      ];
      const labelsOrRegions = chosen.length > 0 ? chosen : undefined;
      const ignoreLabel =
        o.ignoreLabel === undefined ? undefined : parseNonNegativeInt('--ignore-label', o.ignoreLabel);
      const system = o.names === undefined ? undefined : parseLabelSystem(o.names);
      const nsdToleranceMm = o.nsd ? parseTolerance(o.nsdTolerance) : undefined;
      const log = (s: string): void => {
        if (o.json === true) console.error(s);
        else console.log(s);
      };
      const output = o.output ?? join(o.pred, 'summary.json');
      const result = evaluateFolders(nodeStore, o.pred, o.ref, {
        ...(labelsOrRegions === undefined ? {} : { labelsOrRegions }),
        ...(ignoreLabel === undefined ? {} : { ignoreLabel }),
        ...(nsdToleranceMm === undefined ? {} : { nsdToleranceMm }),
        ...(o.map === undefined ? {} : { map: o.map }),
        maxImageBytes: availableMemoryBytes(),
        onCase: (c, i, n) => {
          const nsd =
            nsdToleranceMm === undefined ? '' : `  NSD@${nsdToleranceMm}mm ${fmt(caseMean(c, 'NSD'))}`;
          log(`[${i + 1}/${n}] ${c.prediction_file}  Dice ${fmt(caseMean(c, 'Dice'))}${nsd}`);
        },
      });
      const text = summaryToJson(result.summary);
      writeAtomic(output, text);
      const absent = absentLabels(result.summary);
      if (absent.length > 0)
        console.error(
          `warning: label(s) ${absent.join(', ')} occur in no prediction and no reference; their Dice is NaN ` +
            '(check --labels / --regions)',
        );
      if (o.json === true) {
        process.stdout.write(text);
        console.error(`wrote ${output}`);
        return;
      }
      const names =
        result.labelNames ??
        (system === undefined ? datasetLabelNames(nodeStore, o.ref) : labelNames(system));
      const rows = result.summary.mean.map((e) => {
        const r = result.labelsOrRegions.find((x) => labelOrRegionKey(x) === e.key);
        const name = typeof r === 'number' ? (names?.[r] ?? '') : '';
        return [e.key, name, fmt(e.metrics.Dice), fmt(e.metrics.IoU), fmt(e.metrics.NSD)];
      });
      const fg = result.summary.foreground_mean;
      rows.push(['mean', '(foreground)', fmt(fg.Dice), fmt(fg.IoU), fmt(fg.NSD)]);
      const header = [
        'label',
        'name',
        'Dice',
        'IoU',
        nsdToleranceMm === undefined ? 'NSD' : `NSD@${nsdToleranceMm}mm`,
      ];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
      const line = (r: readonly string[]): string =>
        r
          .map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
          .join('  ')
          .trimEnd();
      console.log(line(header));
      for (const r of rows) console.log(line(r));
      console.log(`wrote ${output} (${result.summary.metric_per_case.length} cases)`);
    });
}
