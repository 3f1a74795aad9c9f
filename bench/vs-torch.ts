/**
 * Side by side with PyTorch (issue 14): the official STUNet class timed by bench/vs-torch.py on Debian's
 * python3-torch, and ours by bench/forward.ts (ONNX Runtime, what `stunet predict` uses) and bench/train.ts
 * (the wasm engine), in one run on the same machine: seconds, peak RSS and the ratio ours / PyTorch.
 * Runs only where python3-torch is installed and the official STUNet.py is given; prints, never asserts.
 *
 *   node --import tsx bench/vs-torch.ts --stunet-py STU-Net/nnUNet-1.7.1/nnunet/network_architecture/STUNet.py
 *   … --scales S,B --work forward,train --threads 2 --train-patches 64,128 --repeats 3 --json
 *   … --python /usr/bin/python3        (the interpreter with torch; default: /usr/bin/python3, else python3)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const json = process.argv.includes('--json');
const stunetPy = arg('--stunet-py', '');
const scales = arg('--scales', 'S,B').split(',');
const work = arg('--work', 'forward,train').split(',');
const threads = Number(arg('--threads', '2'));
const trainPatches = arg('--train-patches', '64').split(',').map(Number);
const forwardPatch = Number(arg('--forward-patch', '128'));
const repeats = Number(arg('--repeats', '3'));
const python = arg('--python', existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

interface Measurement {
  readonly seconds: number;
  readonly peakRssBytes: number;
}

function stop(message: string): never {
  console.error(`vs-torch: ${message}`);
  process.exit(1);
}

if (stunetPy === '' || !existsSync(stunetPy))
  stop(
    'give --stunet-py <the official STUNet.py> (uni-medical/STU-Net, nnUNet-1.7.1/nnunet/network_architecture/)',
  );
if (spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0)
  stop(`${python} cannot import torch: install Debian's python3-torch (or give --python)`);

/** Runs a command and returns its JSON lines. */
function jsonLines(cmd: string, args: readonly string[]): Record<string, unknown>[] {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) stop(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function only(lines: Record<string, unknown>[], what: string): Measurement {
  const m = lines[lines.length - 1];
  if (m === undefined) stop(`${what}: no measurement printed`);
  return { seconds: Number(m['seconds']), peakRssBytes: Number(m['peakRssBytes']) };
}

function torch(scale: string, kind: string, patch: number): Measurement {
  const args = [join(HERE, 'vs-torch.py'), '--stunet-py', stunetPy, '--scale', scale, '--work', kind];
  args.push('--patch', String(patch), '--threads', String(threads), '--repeats', String(repeats));
  return only(jsonLines(python, args), `torch ${scale} ${kind}`);
}

function ours(scale: string, kind: string, patch: number): Measurement {
  const bench = kind === 'forward' ? 'forward.ts' : 'train.ts';
  const args = [
    '--import',
    'tsx',
    join(HERE, bench),
    '--json',
    '--scales',
    scale,
    '--threads',
    String(threads),
  ];
  if (kind === 'forward') args.push('--patch', `${patch},${patch},${patch}`, '--repeats', String(repeats));
  else args.push('--patches', String(patch), '--backends', 'wasm', '--steps', String(repeats));
  return only(jsonLines(process.execPath, args), `ours ${scale} ${kind}`);
}

const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;
const rows: string[] = [];
for (const scale of scales)
  for (const kind of work)
    for (const patch of kind === 'forward' ? [forwardPatch] : trainPatches) {
      const t = torch(scale, kind, patch);
      const o = ours(scale, kind, patch);
      const ratio = o.seconds / t.seconds;
      const what =
        kind === 'forward'
          ? `forward ${scale}, 1×1×${patch}³ (ONNX Runtime)`
          : `training step ${scale}, batch 2, ${patch}³ (wasm engine)`;
      if (json)
        console.log(
          JSON.stringify({
            scale,
            work: kind,
            patch,
            threads,
            ours: o,
            torch: t,
            ratio,
            memoryRatio: o.peakRssBytes / t.peakRssBytes,
          }),
        );
      rows.push(
        `| ${what} | ${o.seconds.toFixed(2)} s, ${gib(o.peakRssBytes)} | ${t.seconds.toFixed(2)} s, ${gib(t.peakRssBytes)} | ${ratio.toFixed(2)} |`,
      );
    }
if (!json) {
  console.log(`threads ${threads}, median of ${repeats} after one warm-up (PyTorch: ${python})`);
  console.log('| work | ours | PyTorch | ratio |\n|---|---|---|---|');
  for (const r of rows) console.log(r);
}
