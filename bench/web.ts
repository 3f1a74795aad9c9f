/**
 * The browser app against `stunet predict` (issue 11): a released-size S (nnU-Net v1 `.model` with the
 * released plans, random weights) on one 128³ tile (the centre 60³ voxels of the example CT) and on the
 * whole example CT at 1.5 mm, without TTA, in headless chromium on ONNX Runtime Web (WASM, threads: the
 * page is served cross-origin isolated) and in Node (ONNX Runtime, same threads). Prints wall times (file
 * given → labels ready), their ratio, Node's peak RSS and the tab's peak memory (the RSS of chromium's
 * renderer process, which holds the page and its workers, sampled every 200 ms). Asserts nothing.
 *
 *   node --import tsx bench/web.ts [--cases tile,ct] [--backends wasm,engine] [--threads 2] [--json]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { torchV1Value } from '../src/checkpoint/nnunet-write.js';
import { cropNifti } from '../src/io/nifti-crop.js';
import { readNifti, writeNifti } from '../src/io/nifti.js';
import { defaultMeta } from '../src/model/loaded-model.js';
import { initWeightsHe } from '../src/model/init.js';
import { scaleArchitecture, SCALES } from '../src/model/scales.js';
import { StuNet } from '../src/model/stunet.js';
import { embeddedBytes, RELEASED_PLAN_FILES } from '../src/models/plan-files.js';
import { saveTorchFile } from '../src/node/checkpoint-file.js';
import { openApp, runApp } from '../test/web/browser.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CT = join(ROOT, '..', 'shared', 'data', 'totalseg', 'example_ct.nii.gz');
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const json = process.argv.includes('--json');
const threads = arg('--threads', '2');
const cases = arg('--cases', 'tile,ct').split(',');
const backends = arg('--backends', 'wasm').split(',') as ('wasm' | 'engine')[];

interface Measurement {
  readonly case: string;
  readonly where: string;
  readonly seconds: number;
  readonly peakBytes: number;
  readonly ratioToNode?: number;
}

const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;

function print(m: Measurement): void {
  if (json) console.log(JSON.stringify(m));
  else
    console.log(
      `${m.case.padEnd(5)} ${m.where.padEnd(22)} ${m.seconds.toFixed(1).padStart(7)} s  peak ${gib(m.peakBytes)}` +
        (m.ratioToNode === undefined ? '' : `  ${m.ratioToNode.toFixed(2)}× Node`),
    );
}

/** S as released (v1 checkpoint + plans .pkl), random weights. */
function writeS(dir: string): string[] {
  const arch = scaleArchitecture('S');
  const model = {
    arch,
    weights: initWeightsHe(new StuNet(arch), 0),
    meta: { ...defaultMeta('nnunet-v1'), trainerName: SCALES.S.trainer },
  };
  const ckpt = join(dir, 'small_ep4k.model');
  saveTorchFile(ckpt, torchV1Value(model).value);
  writeFileSync(`${ckpt}.pkl`, embeddedBytes(RELEASED_PLAN_FILES.small));
  return [ckpt, `${ckpt}.pkl`];
}

function inputs(dir: string): Record<string, string> {
  const img = readNifti(readFileSync(CT));
  const [I = 0, J = 0, K = 0] = img.dims;
  const n = 60;
  const tile = join(dir, 'tile.nii.gz');
  writeFileSync(tile, writeNifti(cropNifti(img, [(I - n) >> 1, (J - n) >> 1, (K - n) >> 1], [n, n, n])));
  return { tile, ct: CT };
}

/** `stunet predict` from source with the peak-RSS reporter of bench/scale.ts. */
function nodePredict(input: string, model: string, out: string): Measurement & { stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--import', join(ROOT, 'bench', 'report-rss.ts'), join(ROOT, 'src', 'cli', 'index.ts'),
     'predict', '-i', input, '-o', out, '-m', model, '--no-tta', '--threads', threads], // prettier-ignore
    { encoding: 'utf8', cwd: ROOT },
  );
  if (r.status !== 0) throw new Error(`stunet predict failed: ${r.stderr.slice(-2000)}`);
  const peak = Number(/@@peak-rss (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  return {
    case: '',
    where: `node ort (${threads} threads)`,
    seconds: (performance.now() - t0) / 1000,
    peakBytes: peak,
    stdout: r.stdout,
  };
}

/** RSS bytes of every chromium renderer process below this one (the tab and its workers). */
function rendererRss(): number {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const ours = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p))
      if (p === process.pid) return true;
    return false;
  };
  let total = 0;
  for (const pid of parent.keys()) {
    if (!ours(pid)) continue;
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      total += Number(rss ?? 0) * 1024;
    } catch {
      // gone
    }
  }
  return total;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stunet-bench-web-'));
  const app = await openApp();
  try {
    const model = writeS(dir);
    const files = inputs(dir);
    const gpu = await app.page.evaluate(async () => {
      const g = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator
        ?.gpu;
      return g === undefined
        ? 'no WebGPU API'
        : (await g.requestAdapter()) === null
          ? 'no adapter'
          : 'an adapter';
    });
    if (!json)
      console.log(`headless chromium: WebGPU ${gpu} (WebGPU speed and its check against WASM need one)`);
    for (const c of cases) {
      const input = files[c] ?? '';
      const node = { ...nodePredict(input, model[0] ?? '', join(dir, `${c}_node.nii.gz`)), case: c };
      print(node);
      for (const backend of backends) {
        await app.page.reload();
        let peak = 0;
        const timer = setInterval(() => (peak = Math.max(peak, rendererRss())), 200);
        const t0 = performance.now();
        const state = await runApp(app.page, {
          image: input,
          model,
          backend,
          tta: false,
          timeoutMs: 3_600_000,
        });
        const seconds = (performance.now() - t0) / 1000;
        clearInterval(timer);
        peak = Math.max(peak, rendererRss());
        if (state !== 'done')
          throw new Error(`the app failed: ${(await app.page.textContent('#error')) ?? ''}`);
        const where = backend === 'wasm' ? `browser ort-web wasm` : 'browser engine';
        print({ case: c, where, seconds, peakBytes: peak, ratioToNode: seconds / node.seconds });
        if (!json)
          console.log(
            `      ${(await app.page.textContent('#runtime')) ?? ''}\n      ${(await app.page.textContent('#memory')) ?? ''}`,
          );
      }
    }
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
