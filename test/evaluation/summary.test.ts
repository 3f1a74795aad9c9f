import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  computeCaseMetrics,
  keyToLabelOrRegion,
  parsePythonJson,
  parseSummaryJson,
  pythonFloatRepr,
  summarize,
  summaryToJson,
  writePythonJson,
  type CaseResult,
  type PyJsonValue,
} from './api.js';
import { LABELS, REGIONS, SPACING_MM, at, loadLabelMap, num } from './fixture.js';

test('pythonFloatRepr matches Python repr/json.dumps (values checked with CPython 3.11)', () => {
  const cases: [number, string][] = [
    [0.1, '0.1'],
    [1e16, '1e+16'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [123456789012345680.0, '1.2345678901234568e+17'],
    [1.5e-7, '1.5e-07'],
    [100, '100.0'],
    [2.5, '2.5'],
    [-0, '-0.0'],
    [1e22, '1e+22'],
    [9999999999999998.0, '9999999999999998.0'],
    [0.8217965814038065, '0.8217965814038065'],
    [143066.95, '143066.95'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [-1.2345e-7, '-1.2345e-07'],
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
  ];
  for (const [x, want] of cases) assert.equal(pythonFloatRepr(x), want, String(x));
});

test('writePythonJson is json.dumps(sort_keys=True, indent=4), ints as bigint, ensure_ascii', () => {
  const text = writePythonJson({
    b: [],
    a: new Map<string, PyJsonValue>([
      ['(1, 2)', 1n],
      ['1', 2],
      ['10', NaN],
      ['xé\n', {}],
    ]),
  });
  // Output of CPython 3.11 json.dumps on the same value.
  const python = [
    '{',
    '    "a": {',
    '        "(1, 2)": 1,',
    '        "1": 2.0,',
    '        "10": NaN,',
    '        "x\\u00e9\\n": {}',
    '    },',
    '    "b": []',
    '}',
  ].join('\n');
  assert.equal(text, python);
  assert.deepEqual(parsePythonJson(text), { a: { '(1, 2)': 1, '1': 2, '10': NaN, 'xé\n': {} }, b: [] });
});

test('parsePythonJson rejects malformed input with a StunetError', () => {
  for (const bad of ['{', '[1,]', '{"a" 1}', 'nan', '1 2']) {
    assert.throws(() => parsePythonJson(bad), { name: 'StunetError' }, bad);
  }
});

function fixtureCase(variant: 'main' | 'ignore255'): CaseResult {
  const ref = loadLabelMap(variant === 'main' ? 'reference.npy.gz' : 'reference_with_ignore.npy.gz');
  const pred = loadLabelMap('prediction.npy.gz');
  return {
    reference_file: `ref/${variant}.npy`,
    prediction_file: `pred/${variant}.npy`,
    metrics: computeCaseMetrics(ref.data, pred.data, ref.shape, {
      labelsOrRegions: [...LABELS, ...REGIONS],
      ...(variant === 'main' ? {} : { ignoreLabel: 255 }),
    }),
  };
}

for (const variant of ['main', 'ignore255'] as const) {
  test(`summarize matches nnU-Net's mean and foreground_mean (${variant})`, () => {
    const s = summarize([fixtureCase(variant)]);
    assert.deepEqual(
      s.mean.map((e) => e.key),
      [...LABELS.map(String), '(2, 3)', '(1, 6)', '(11, 12)', '(13, 16)'],
    );
    for (const { key, metrics } of s.mean) {
      for (const [m, v] of Object.entries(metrics)) {
        const want = num(at('nnunet_v2', variant, 'mean', key, m));
        assert.ok(Object.is(v, want), `mean ${key} ${m}: ${v} vs ${want}`);
      }
    }
    for (const [m, v] of Object.entries(s.foreground_mean)) {
      const want = num(at('nnunet_v2', variant, 'foreground_mean', m));
      assert.ok(Object.is(v, want), `foreground_mean ${m}: ${v} vs ${want}`);
    }
  });
}

test('summary.json: nnU-Net layout, sorted keys, int counts per case, NaN literals, round trip', () => {
  const ref = loadLabelMap('reference.npy.gz');
  const pred = loadLabelMap('prediction.npy.gz');
  const metrics = computeCaseMetrics(ref.data, pred.data, ref.shape, {
    labelsOrRegions: [5, 12, 16, [13, 16]],
    spacingMm: SPACING_MM,
    nsdToleranceMm: 1,
  });
  const s = summarize([
    { reference_file: 'gt/amos_0001.nii.gz', prediction_file: 'pred/amos_0001.nii.gz', metrics },
  ]);
  const text = summaryToJson(s);
  const lines = text.split('\n');
  assert.equal(lines[1], '    "foreground_mean": {');
  // Sorted keys: "(13, 16)" < "12" < "16" < "5"; metric names in Python's sorted order, NSD among them.
  const meanKeys = [...text.matchAll(/^ {8}"([^"]+)": \{$/gm)].map((m) => m[1]);
  assert.deepEqual(meanKeys.slice(0, 4), ['(13, 16)', '12', '16', '5']);
  const perLabel = [...text.slice(text.indexOf('"mean"')).matchAll(/^ {12}"(\w+)": /gm)].map((m) => m[1]);
  assert.deepEqual(perLabel.slice(0, 9), ['Dice', 'FN', 'FP', 'IoU', 'NSD', 'TN', 'TP', 'n_pred', 'n_ref']);
  assert.match(text, /\n {20}"TP": 7642,\n/, 'per-case counts are ints');
  assert.match(text, /\n {12}"TP": 7642\.0,\n/, 'means are floats');
  assert.match(text, /\n {20}"Dice": NaN,\n/, 'label 16 Dice is the NaN literal');
  assert.match(text, /\n {8}"Dice": NaN,\n/, 'foreground_mean is NaN when any key is NaN');
  const back = parseSummaryJson(text);
  assert.deepEqual(back.foreground_mean, s.foreground_mean);
  // JS objects put integer-like keys first, so compare in key order.
  const byKey = (list: readonly { key: string; metrics: object }[]) =>
    [...list].sort((a, b) => (a.key < b.key ? -1 : 1)).map((e) => [e.key, e.metrics]);
  assert.deepEqual(byKey(back.metric_per_case[0]?.metrics ?? []), byKey(metrics));
  assert.deepEqual(keyToLabelOrRegion('(13, 16)'), [13, 16]);
  assert.deepEqual(keyToLabelOrRegion('(5,)'), [5]);
  assert.equal(keyToLabelOrRegion('12'), 12);
});
