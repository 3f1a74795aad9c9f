/**
 * What `predict` takes in and checks before computing (issue 17, items 1, 2, 4, 5): --map only for
 * STU-Net's 104 classes; the channels of a case grouped by nnU-Net's _XXXX suffix (or given as a list);
 * output folders that cannot be written and corrupt cases named before/when they fail; .nii written
 * uncompressed; .hdr read with its .img.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cropNifti } from '../../src/io/nifti-crop.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';
import type { NetworkFn } from '../../src/inference/tta.js';
import { loadModelFromStore } from '../../src/jobs/model-files.js';
import { createPredictorNetwork } from '../../src/jobs/network.js';
import { checkMapModel } from '../../src/jobs/predict-case.js';
import { predictFiles } from '../../src/jobs/predict-run.js';
import { engineRuntime } from '../../src/jobs/runtime.js';
import { MemoryStore } from '../../src/jobs/store.js';
import { defaultMeta, type LoadedModel } from '../../src/model/loaded-model.js';
import { nodeStore } from '../../src/node/file-store.js';
import { fixturePath } from '../helpers.js';

const fixture = (...p: string[]): Uint8Array => new Uint8Array(readFileSync(fixturePath(...p)));
const ctImage = cropNifti(readNifti(fixture('nifti', 'example_ct_sm.nii.gz')), [40, 30, 6], [36, 30, 14]);
const ct = writeNifti(ctImage);
/** A second channel on the same grid (a nonlinear map of the CT, so z-scoring does not make it equal). */
const ct2 = writeNifti({
  ...ctImage,
  data: ctImage.data.map((v) => Math.sqrt(Math.abs(v)) * (v < 0 ? -1 : 1)),
});
const models = new MemoryStore([
  ['m/T1.model', fixture('stunet-forward', 'T1.model')],
  ['m/T1.model.pkl', fixture('stunet-forward', 'T1.model.pkl')],
  ['m/T2/checkpoint_final.pth', fixture('stunet-forward', 'T2_checkpoint_final.pth')],
]);
const T1 = loadModelFromStore(models, 'm/T1.model');
const T2 = loadModelFromStore(models, 'm/T2/checkpoint_final.pth');

/** The model's network, counting its runs. */
async function counted(
  model: LoadedModel,
): Promise<{ network: NetworkFn; runs: () => number; close: () => Promise<void> }> {
  const p = await createPredictorNetwork(model, 'wasm', engineRuntime(), { threads: 1 });
  let runs = 0;
  const network = Object.assign(
    (x: Parameters<NetworkFn>[0]) => {
      runs++;
      return p.network(x);
    },
    p.network.classHead === undefined ? {} : { classHead: p.network.classHead },
  );
  return { network, runs: () => runs, close: () => p.close() };
}

const fast = { mirrorAxes: [] as number[] };

test('--map is refused for a model that is not STU-Net 104-class, before anything runs', async () => {
  assert.throws(
    () => {
      checkMapModel(T1, 'Task011_BTCV');
    },
    { code: 'BAD_INPUT', message: /this model predicts 4 class\(es\).*drop --map/ },
  );
  const arch = { ...T1.arch, numClasses: 105 };
  const named = (names: string[]): LoadedModel => ({
    arch,
    weights: new Map(),
    meta: {
      ...defaultMeta('stunet'),
      datasetJson: { labels: Object.fromEntries(names.map((n, i) => [n, i])) },
    },
  });
  const labels = ['background', ...Array.from({ length: 104 }, (_, i) => `organ_${i + 1}`)];
  assert.throws(
    () => {
      checkMapModel(named(labels), 'Task011_BTCV');
    },
    { code: 'BAD_INPUT', message: /class 1 is 'organ_1', not 'adrenal_gland_left'/ },
  );
  checkMapModel({ ...named([]), meta: defaultMeta('stunet') }, 'Task011_BTCV'); // 105 classes, no names: STU-Net's
  assert.throws(() => {
    checkMapModel(T1, 'NoSuchDataset');
  }, /NoSuchDataset/);

  const store = new MemoryStore([['in/ct.nii.gz', ct]]);
  const net = await counted(T1);
  try {
    await assert.rejects(
      predictFiles({ store }, 'in/ct.nii.gz', 'out/seg.nii.gz', T1, net.network, { map: 'Task011_BTCV' }),
      {
        code: 'BAD_INPUT',
        message: /--map Task011_BTCV/,
      },
    );
    assert.equal(net.runs(), 0);
    assert.ok(!store.exists('out'));
  } finally {
    await net.close();
  }
});

test('channels of a case are grouped by _XXXX in a folder, or given as a list, and agree', async () => {
  const store = new MemoryStore([
    ['in/a_0000.nii.gz', ct],
    ['in/a_0001.nii.gz', ct2],
    ['in/b_0001.nii.gz', ct2],
    ['in/b_0000.nii.gz', ct],
  ]);
  const net = await counted(T2);
  try {
    const reports = await predictFiles({ store }, 'in', 'out', T2, net.network, fast);
    assert.deepEqual(
      reports.map((r) => r.input),
      ['in/a_0000.nii.gz,in/a_0001.nii.gz', 'in/b_0000.nii.gz,in/b_0001.nii.gz'],
    );
    assert.deepEqual(store.list('out'), ['a.json', 'a.nii.gz', 'b.json', 'b.nii.gz']);
    await predictFiles(
      { store },
      ['in/a_0000.nii.gz', 'in/a_0001.nii.gz'],
      'list/seg.nii.gz',
      T2,
      net.network,
      fast,
    );
    assert.deepEqual(readNifti(store.read('list/seg.nii.gz')).raw, readNifti(store.read('out/a.nii.gz')).raw);
    // the two channels matter: swapping them changes the input
    await predictFiles(
      { store },
      ['in/a_0001.nii.gz', 'in/a_0000.nii.gz'],
      'swap/seg.nii.gz',
      T2,
      net.network,
      fast,
    );
    assert.notDeepEqual(
      readNifti(store.read('swap/seg.nii.gz')).raw,
      readNifti(store.read('out/a.nii.gz')).raw,
    );
  } finally {
    await net.close();
  }
});

test('missing channels, wrong channel counts and channels on different grids fail before computing', async () => {
  const other = writeNifti(
    cropNifti(readNifti(fixture('nifti', 'example_ct_sm.nii.gz')), [41, 30, 6], [36, 30, 14]),
  );
  const net = await counted(T2);
  try {
    const cases: [MemoryStore, string | string[], RegExp][] = [
      [
        new MemoryStore([
          ['in/c_0000.nii.gz', ct],
          ['in/c_0002.nii.gz', ct2],
        ]),
        'in',
        /case 'c' has no channel 1 \(c_0001\)/,
      ],
      [
        new MemoryStore([['in/d_0000.nii.gz', ct]]),
        'in',
        /takes 2 input channel\(s\), case 'd' has 1 \(in\/d_0000\.nii\.gz\)/,
      ],
      [
        new MemoryStore([['x.nii.gz', ct]]),
        'x.nii.gz',
        /takes 2 input channel\(s\).*-i a\.nii\.gz,b\.nii\.gz/,
      ],
      [
        new MemoryStore([
          ['a.nii.gz', ct],
          ['b.nii.gz', other],
        ]),
        ['a.nii.gz', 'b.nii.gz'],
        /'b\.nii\.gz'.*differs from 'a\.nii\.gz'.*affine/,
      ],
    ];
    for (const [store, input, message] of cases)
      await assert.rejects(predictFiles({ store }, input, 'out', T2, net.network, fast), { message });
    assert.equal(net.runs(), 0);
  } finally {
    await net.close();
  }
});

test('an output folder that cannot be written fails before computing, naming it', async () => {
  const net = await counted(T1);
  try {
    const store = new MemoryStore([
      ['in/ct.nii.gz', ct],
      ['out', 'a file, not a folder'],
    ]);
    await assert.rejects(predictFiles({ store }, 'in/ct.nii.gz', 'out/seg.nii.gz', T1, net.network, fast), {
      code: 'BAD_INPUT',
      message: /cannot write to the output folder 'out'/,
    });
    const onDisk = { store: nodeStore };
    await assert.rejects(
      predictFiles(
        onDisk,
        fixturePath('nifti', 'example_ct_sm.nii.gz'),
        '/dev/null/sub/seg.nii.gz',
        T1,
        net.network,
        fast,
      ),
      { code: 'BAD_INPUT', message: /cannot write to the output folder '\/dev\/null\/sub'/ },
    );
    assert.equal(net.runs(), 0);
  } finally {
    await net.close();
  }
});

test('a corrupt case in a folder fails with its file named', async () => {
  const store = new MemoryStore([
    ['in/a.nii.gz', ct],
    ['in/b.nii.gz', ct.subarray(0, 200)],
  ]);
  const net = await counted(T1);
  try {
    await assert.rejects(predictFiles({ store }, 'in', 'out', T1, net.network, fast), {
      message: /^'in\/b\.nii\.gz': /,
    });
    assert.ok(store.exists('out/a.nii.gz'), 'the case before it was written');
  } finally {
    await net.close();
  }
});

test('-o seg.nii writes uncompressed NIfTI (masks too); a .hdr is read with the .img beside it', async () => {
  const store = new MemoryStore([
    ['in/ct.nii.gz', ct],
    ['pair/ras.hdr', fixture('nifti', 'ras.hdr')],
    ['pair/ras.img', fixture('nifti', 'ras.img')],
    ['lone/x.hdr', fixture('nifti', 'ras.hdr')],
  ]);
  const net = await counted(T1);
  try {
    await predictFiles({ store }, 'in/ct.nii.gz', 'out/seg.nii', T1, net.network, {
      ...fast,
      perClass: true,
    });
    const seg = store.read('out/seg.nii');
    assert.notDeepEqual([seg[0], seg[1]], [0x1f, 0x8b], 'not gzip');
    assert.deepEqual(readNifti(seg).dims, [36, 30, 14]);
    const masks = store.list('out/seg_classes');
    assert.ok(
      masks.length > 0 && masks.every((m) => m.endsWith('.nii') && !m.endsWith('.nii.gz')),
      masks.join(),
    );
    const [r] = await predictFiles({ store }, 'pair/ras.hdr', 'pred', T1, net.network, fast);
    assert.deepEqual(r?.files.slice(0, 2), ['pred/ras.nii.gz', 'pred/ras.json']);
    assert.deepEqual(
      readNifti(store.read('pred/ras.nii.gz')).dims,
      readNifti(fixture('nifti', 'ras.hdr'), fixture('nifti', 'ras.img')).dims,
    );
    await assert.rejects(predictFiles({ store }, 'lone/x.hdr', 'pred2', T1, net.network, fast), {
      code: 'NOT_FOUND',
      message: /'lone\/x\.hdr' is a \.hdr without its \.img beside it/,
    });
  } finally {
    await net.close();
  }
});
