import type { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { fail } from '../util/errors.js';
import { isScaleName } from '../model/scales.js';
import { fingerprintDatasetDir } from '../node/dataset-files.js';
import { writeAtomic } from '../node/fs.js';
import { planExperiment } from '../planning/planner.js';
import { serializePlans } from '../planning/plans.js';
import { stunetPlansFromDataset, totalsegPresetPlans } from '../planning/presets.js';
import { formatBytes } from '../model/memory.js';

interface PlanOptions {
  scale: string;
  preset: string;
  memoryGb: string;
  output: string;
  fingerprint?: string;
}

function positiveNumber(option: string, text: string): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0) fail('BAD_INPUT', `${option} must be a positive number, got '${text}'`);
  return v;
}

export function registerPlan(program: Command): void {
  program
    .command('plan <dataset-dir>')
    .description('fingerprint an nnU-Net v2 dataset and write plans.json (nnU-Net v2 field names)')
    .option('--scale <S|B|L|H>', 'STU-Net scale (as stunet train)', 'S')
    .option(
      '--preset <totalseg|dataset|nnunet>',
      "totalseg: released TotalSegmentator plans; dataset: the dataset's nnU-Net plans with STU-Net's kernels and 5 pools; nnunet: plain nnU-Net ExperimentPlanner",
      'dataset',
    )
    .option(
      '--memory-gb <n>',
      'memory budget in GB (dataset: training peak of our engine; nnunet: gpu_memory_target_in_gb)',
      '8',
    )
    .option('--fingerprint <file>', 'also write dataset_fingerprint.json here')
    .requiredOption('-o, --output <file>', 'plans.json to write')
    .action((dir: string, o: PlanOptions) => {
      if (!isScaleName(o.scale)) fail('BAD_INPUT', `--scale must be S, B, L or H, got '${o.scale}'`);
      const memoryGb = positiveNumber('--memory-gb', o.memoryGb);
      if (!['totalseg', 'dataset', 'nnunet'].includes(o.preset)) {
        fail('BAD_INPUT', `--preset must be totalseg, dataset or nnunet, got '${o.preset}'`);
      }
      const { desc, fingerprint } = fingerprintDatasetDir(dir);
      if (o.fingerprint !== undefined)
        writeAtomic(o.fingerprint, JSON.stringify(fingerprint, null, 4) + '\n');
      let plans;
      if (o.preset === 'totalseg') {
        plans = totalsegPresetPlans({
          scale: o.scale,
          intensityProperties: fingerprint.foreground_intensity_properties_per_channel,
        });
      } else {
        const nnunet = planExperiment({
          fingerprint,
          channelNames: desc.json.channelNames,
          numLabels: Object.keys(desc.json.labels.declared).length,
          numTraining: desc.json.numTraining,
          datasetName: basename(resolve(dir)),
          memoryGb,
        });
        if (o.preset === 'nnunet') plans = nnunet;
        else {
          const r = stunetPlansFromDataset(nnunet, {
            scale: o.scale,
            numClasses: desc.json.labels.allLabels.length,
            memoryBytes: memoryGb * 1024 ** 3,
          });
          plans = r.plans;
          const b = r.plans.configurations['3d_fullres']?.batch_size ?? 0;
          const note = r.fits ? '' : ` — over the ${memoryGb} GB budget even at batch 1`;
          console.log(`STU-Net-${o.scale}: batch ${b}, training peak ≈ ${formatBytes(r.peakBytes)}${note}`);
        }
      }
      writeAtomic(o.output, serializePlans(plans));
      const c = plans.configurations['3d_fullres'];
      if (c !== undefined) {
        console.log(
          `wrote ${o.output}: spacing [${c.spacing.map((s) => +s.toFixed(4)).join(', ')}] mm, patch [${c.patch_size.join(', ')}], ` +
            `batch ${c.batch_size}, ${c.normalization_schemes.join(', ')}`,
        );
      }
    });
}
