/**
 * What `stunet train` tells its user: the plan and network before it starts, an estimate of the run's
 * length after its first few iterations (with a warning when it takes days), one line per epoch (numbered as
 * the progress bar numbers them), and the final validation's mean Dice.
 */
import type { Summary } from '../evaluation/index.js';
import { countModel } from '../model/counting.js';
import { configurationTopology } from '../planning/plans.js';
import type { EpochLog } from '../training/checkpointing.js';
import { formatDuration, type ProgressListener } from '../util/progress.js';
import type { RunSetup } from './train-setup.js';

const DAY_SECONDS = 86_400;

/** The console line of one epoch: `epoch 3/20: train loss …` (1-based, as the bar; log.jsonl keeps 0-based). */
export function describeEpoch(e: EpochLog, totalEpochs: number): string {
  const f = (v: number | null): string => (v === null ? 'nan' : v.toFixed(4));
  const dice =
    e.meanPseudoDice === null ? '' : `, pseudo-Dice ${f(e.meanPseudoDice)} (EMA ${f(e.emaPseudoDice)})`;
  return (
    `epoch ${e.epoch + 1}/${totalEpochs}: train loss ${f(e.trainLoss)}${dice}, ` +
    `lr ${e.lr.toExponential(3)}, ${e.seconds.toFixed(1)} s`
  );
}

/** The plan and the network, in two lines, before anything is trained. */
export function describeRun(s: RunSetup): string[] {
  const topo = configurationTopology(s.plans);
  const mm = topo.spacing.map((v) => +v.toFixed(3)).join(' × ');
  const params = countModel(s.arch, s.patch).parameters;
  return [
    `plan: patch ${s.patch.join('×')}, batch ${s.batch}, spacing ${mm} mm, normalization ` +
      `${topo.normalizationSchemes.join(', ')}; ${s.split.train.length} training / ${s.split.val.length} validation case(s)`,
    `network: STU-Net dims ${s.arch.dims.join(',')}, depth ${s.arch.depth.join(',')}, pools ` +
      `${s.arch.poolOpKernelSizes.map((p) => p.join(',')).join('/')}, ${(params / 1e6).toFixed(2)} M parameters; ` +
      `${s.cfg.epochs} epochs × ${s.cfg.itersPerEpoch} iterations`,
  ];
}

/** Iterations timed for the estimate, after the first (which also pays for warm-up and loader start). */
const TIMED_ITERATIONS = 5;

/**
 * Wraps a progress listener: early in this run's first epoch, logs the time per epoch and for the epochs
 * left, and warns when the run would take more than a day. The iterations after the first are timed (the
 * first also starts the loader and warms the kernels up); an epoch of one iteration is timed whole.
 */
export function estimatingProgress(
  s: RunSetup,
  firstEpoch: number,
  log: (line: string) => void,
  inner: ProgressListener | undefined,
  now: () => number = () => performance.now(),
): ProgressListener {
  const t0 = now();
  let t1: number | null = null;
  let done = false;
  return (e) => {
    inner?.(e);
    if (done || !e.stage.startsWith('epoch ') || e.done < 1) return;
    if (e.done === 1) t1 = now();
    const timed = Math.min(TIMED_ITERATIONS, e.total - 1);
    if (e.done < 1 + timed) return;
    done = true;
    const perIteration =
      timed === 0 || t1 === null ? (now() - t0) / 1000 : (now() - t1) / 1000 / (e.done - 1);
    const perEpoch = perIteration * (s.cfg.itersPerEpoch + s.cfg.valBatches / 2);
    const left = perEpoch * (s.cfg.epochs - firstEpoch);
    log(
      `estimated: ${perIteration.toFixed(2)} s per iteration, ${formatDuration(perEpoch)} per epoch, ` +
        `${formatDuration(left)} for the ${s.cfg.epochs - firstEpoch} epoch(s) to go`,
    );
    if (left > DAY_SECONDS)
      log(
        `warning: this run takes about ${(left / DAY_SECONDS).toFixed(1)} days on this machine; a smaller ` +
          '--scale, --patch, --epochs or --iters, or a GPU machine with the official trainer, is faster',
      );
  };
}

/** `validation: mean Dice 0.912 over 5 case(s) (…/summary.json)`. */
export function describeValidation(summary: Summary, cases: number, path: string): string {
  const dice = summary.foreground_mean['Dice'];
  return `validation: mean Dice ${dice === undefined ? 'nan' : dice.toFixed(4)} over ${cases} case(s) (${path})`;
}
