import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { countModel } from '../../src/model/counting.js';
import { scaleArchitecture, SCALES, type ScaleName } from '../../src/model/scales.js';
import { StuNet } from '../../src/model/stunet.js';
import { fixturePath } from '../helpers.js';

interface KeysFixture {
  input_channels: number;
  num_classes: number;
  scales: Record<
    ScaleName,
    {
      depth: number[];
      dims: number[];
      num_parameters: number;
      conv_macs: number;
      state_dict: [string, number[]][];
    }
  >;
}
const keys = JSON.parse(readFileSync(fixturePath('stunet-forward', 'keys.json'), 'utf8')) as KeysFixture;

const ISSUE_COUNTS: Record<ScaleName, number> = {
  S: 14_596_941,
  B: 58_262_669,
  L: 440_302_605,
  H: 1_457_326_221,
};

for (const scale of Object.keys(SCALES) as ScaleName[]) {
  test(`scale ${scale}: state_dict keys, shapes and order equal the official network`, () => {
    const expected = keys.scales[scale];
    const net = new StuNet(scaleArchitecture(scale));
    assert.deepEqual(
      net.parameterSpecs().map((s) => [s.name, [...s.shape]]),
      expected.state_dict,
    );
    assert.deepEqual([...SCALES[scale].depth], expected.depth);
    assert.deepEqual([...SCALES[scale].dims], expected.dims);
  });

  test(`scale ${scale}: parameter count and conv MACs at 128³ are exact`, () => {
    const counts = countModel(scaleArchitecture(scale), [128, 128, 128]);
    assert.equal(counts.parameters, ISSUE_COUNTS[scale]);
    assert.equal(counts.parameters, keys.scales[scale].num_parameters);
    assert.equal(counts.convMacs, keys.scales[scale].conv_macs);
    assert.deepEqual(counts.outputShapes[0], [1, 105, 128, 128, 128]);
    assert.deepEqual(counts.outputShapes[4], [1, 105, 8, 8, 8]);
  });
}

test('architecture validation names the problem', () => {
  const base = scaleArchitecture('S');
  assert.throws(() => new StuNet({ ...base, depth: [1, 1, 1] }), /depth has 3 entries but dims has 6/);
  assert.throws(
    () => new StuNet({ ...base, poolOpKernelSizes: base.poolOpKernelSizes.slice(0, 4) }),
    /need 5 pool/,
  );
  assert.throws(
    () => new StuNet({ ...base, convKernelSizes: base.dims.map(() => [2, 2, 2] as const) }),
    /must be odd/,
  );
  assert.throws(() => scaleArchitecture('XL'), /unknown scale 'XL'/);
});

test('a custom 4-stage network counts consistently with its key list', () => {
  const arch = {
    ...scaleArchitecture('S', { depth: [1, 2, 1, 3], dims: [8, 16, 24, 32], numClasses: 3 }),
    poolOpKernelSizes: [
      [2, 2, 2],
      [1, 2, 2],
      [2, 2, 1],
    ] as const,
    convKernelSizes: [
      [3, 3, 3],
      [3, 3, 3],
      [3, 3, 3],
      [1, 3, 3],
    ] as const,
  };
  const net = new StuNet(arch);
  const counts = countModel(arch, [16, 32, 32]);
  assert.equal(
    counts.parameters,
    net.parameterSpecs().reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0),
  );
  assert.deepEqual(
    counts.outputShapes.map((s) => s.slice(2)),
    [
      [16, 32, 32],
      [8, 16, 16],
      [8, 8, 8],
    ],
  );
  assert.ok(net.parameterSpecs().some((s) => s.name === 'conv_blocks_context.3.2.conv1.weight'));
});
