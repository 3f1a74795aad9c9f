/**
 * nnU-Net v1's determine_postprocessing on small cases worked through by hand with its rules
 * (nnunet/postprocessing/connected_components.py, 1.7.1), and postprocessing.json read and written as
 * nnU-Net does. Cases are 1×1×n rows: one digit a voxel, so components and Dice can be counted by eye.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyPostprocessing,
  compactLabels,
  computeCaseMetrics,
  keepLargestComponent,
  determinePostprocessing,
  parsePostprocessingJson,
  postprocessingToJson,
  type PostprocessCase,
  type PostprocessSpec,
} from './api.js';
import { Rng } from '../../src/util/random.js';
import { countChanges, countClasses, countsToMetrics } from '../../src/evaluation/postprocess-dice.js';

const row = (s: string): Uint8Array => Uint8Array.from(s.replace(/ /g, ''), Number);
const pair = (pred: string, ref: string, name?: string): PostprocessCase => {
  const p = row(pred);
  const r = row(ref);
  assert.equal(p.length, r.length);
  return { prediction: p, reference: r, dimsZYX: [1, 1, p.length], ...(name === undefined ? {} : { name }) };
};

test('a spurious blob far from everything: the all-foreground step is taken, the per-class step adds nothing', () => {
  const pred = '1111 22 0000 1';
  const c = pair(pred, '1111 22 0000 0');
  const before = c.prediction.slice();
  const r = determinePostprocessing([c], [1, 2]);
  assert.deepEqual(r.forWhichClasses, [[1, 2]]);
  assert.equal(r.minValidObjectSizes, null);
  assert.deepEqual(r.dcPerClassRaw, { 1: 8 / 9, 2: 1 }); // class 1: TP 4, FP 1 → 2·4/(2·4+1)
  assert.deepEqual(r.dcPerClassPpAll, { 1: 1, 2: 1 });
  assert.deepEqual(r.dcPerClassPpPerClass, { 1: 1, 2: 1 }); // not better than after step 1: not taken
  assert.deepEqual(r.dcPerClassFinal, { 1: 1, 2: 1 });
  assert.deepEqual([...c.prediction], [...before], 'the predictions are not modified');
});

test('the all-foreground step would lose a class: not taken; per class, a spurious blob is removed, a true second component is not', () => {
  // class 1: a spurious voxel; class 2: two true components (3 and 2 voxels), predicted right
  const c = pair('1111 0 222 0 22 000 1', '1111 0 222 0 22 000 0');
  const r = determinePostprocessing([c], [1, 2]);
  // step 1 keeps only 1111: class 1 → 1, class 2 → 0 (worse) → not taken
  assert.deepEqual(r.dcPerClassPpAll, { 1: 1, 2: 0 });
  // step 2 on the raw maps: class 1 → 1 (better, taken); class 2 keeps 222 → 2·3/(2·3+2) = 0.75 (worse)
  assert.deepEqual(r.dcPerClassPpPerClass, { 1: 1, 2: 0.75 });
  assert.deepEqual(r.forWhichClasses, [1]);
  assert.deepEqual(r.dcPerClassFinal, { 1: 1, 2: 1 });
});

test('both steps: the per-class step runs on the all-foreground result and takes a class from it', () => {
  // a stray 2 touches the 1s (so step 1 keeps it), a stray 1 is far away (step 1 removes it)
  const c = pair('2 1111 22 0000 1', '0 1111 22 0000 0');
  const r = determinePostprocessing([c], [1, 2]);
  assert.deepEqual(r.dcPerClassRaw, { 1: 8 / 9, 2: 0.8 }); // class 2: TP 2, FP 1
  assert.deepEqual(r.dcPerClassPpAll, { 1: 1, 2: 0.8 });
  assert.deepEqual(r.dcPerClassPpPerClass, { 1: 1, 2: 1 }); // from step 1's result: 2 at 0 is alone
  assert.deepEqual(r.forWhichClasses, [[1, 2], 2]);
  // applying the result to the raw map gives the final maps
  const labels = row('2 1111 22 0000 1');
  applyPostprocessing(labels, [1, 1, labels.length], r);
  assert.deepEqual([...labels], [...row('0 1111 22 0000 0')]);
});

test('mean Dice over cases is np.nanmean: a class in neither map of a case does not count', () => {
  const a = pair('1111 0 222 0 22 000 1', '1111 0 222 0 22 000 0', 'a');
  const b = pair('11 000 1', '11 000 0', 'b'); // no class 2 at all: Dice NaN, left out
  const r = determinePostprocessing([a, b], [1, 2]);
  assert.deepEqual(r.dcPerClassRaw, { 1: (8 / 9 + 4 / 5) / 2, 2: 1 });
  assert.deepEqual(r.dcPerClassPpPerClass, { 1: 1, 2: 0.75 });
  assert.deepEqual(r.forWhichClasses, [1]);
  assert.equal(r.numSamples, 2);
});

test('a class absent from the references: Dice 0 → NaN when its blob goes, which is neither better nor worse', () => {
  const c = pair('1111 22 00 3', '1111 22 00 0');
  const r = determinePostprocessing([c], [1, 2, 3]);
  assert.equal(r.dcPerClassRaw['3'], 0);
  assert.ok(Number.isNaN(r.dcPerClassPpAll['3']));
  // nothing else changed, so nothing improved: nnU-Net keeps the false positive
  assert.deepEqual(r.forWhichClasses, []);
  // a class in no map at all: NaN throughout, never chosen
  const d = determinePostprocessing([pair('11 0 1', '11 0 0')], [1, 4]);
  assert.ok(Number.isNaN(d.dcPerClassRaw['4']));
  assert.deepEqual(d.forWhichClasses, [[1, 4]]);
});

test('one class: only the all-foreground step (per-class Dice left empty, as nnU-Net)', () => {
  const r = determinePostprocessing([pair('111 0 1', '111 0 0')], [1]);
  assert.deepEqual(r.forWhichClasses, [[1]]);
  assert.deepEqual(r.dcPerClassPpPerClass, {});
});

test('dice threshold: an improvement must exceed it', () => {
  const c = pair('1111 22 0000 1', '1111 22 0000 0'); // class 1 gains 1/9
  assert.deepEqual(determinePostprocessing([c], [1, 2], { diceThreshold: 0.2 }).forWhichClasses, []);
  assert.deepEqual(determinePostprocessing([c], [1, 2], { diceThreshold: 0.1 }).forWhichClasses, [[1, 2]]);
});

test('advanced: only components smaller than the smallest largest component of any case are removed', () => {
  // case a: a true second component (2 voxels) and a spurious one (1); case b: its largest has 2 voxels
  const a = { ...pair('1111 00 11 0 1', '1111 00 11 0 0'), spacingZYX: [1, 1, 2] as const };
  const b = { ...pair('0 11 0000', '0 11 0000'), spacingZYX: [1, 1, 2] as const };
  // default: keeping only 1111 in a loses the true 11 → worse → nothing
  assert.deepEqual(determinePostprocessing([a, b], [1]).forWhichClasses, []);
  // advanced: smallest kept = 2 voxels × 2 mm³ = 4 mm³; only the 1-voxel blob (2 mm³) goes
  const r = determinePostprocessing([a, b], [1], { advanced: true });
  assert.deepEqual(r.forWhichClasses, [[1]]);
  assert.deepEqual([...(r.minValidObjectSizes ?? [])], [['(1,)', 4]]);
  assert.match(postprocessingToJson(r), /"min_valid_object_sizes": "\{\(1,\): 4\.0\}"/);
});

test('postprocessing.json: the layout nnU-Net writes (sorted keys, 4 spaces, NaN, str-sorted classes)', () => {
  const c = pair('1111 22 00 3 0 1', '1111 22 00 0 0 0');
  const r = determinePostprocessing([c], [2, 1, 10, 3], {
    validationRaw: 'validation_raw',
    validationFinal: 'validation_raw_postprocessed',
  });
  assert.deepEqual(r.classes, [1, 10, 2, 3]); // summary.json keys after sort_keys
  const text = postprocessingToJson(r);
  assert.equal(
    text,
    [
      '{',
      '    "dc_per_class_pp_all": {',
      '        "1": 1.0,',
      '        "10": NaN,',
      '        "2": 1.0,',
      '        "3": NaN',
      '    },',
      '    "dc_per_class_pp_per_class": {',
      '        "1": 1.0,',
      '        "10": NaN,',
      '        "2": 1.0,',
      '        "3": NaN',
      '    },',
      '    "dc_per_class_raw": {',
      '        "1": 0.8888888888888888,',
      '        "10": NaN,',
      '        "2": 1.0,',
      '        "3": 0.0',
      '    },',
      '    "for_which_classes": [',
      '        [',
      '            1,',
      '            10,',
      '            2,',
      '            3',
      '        ]',
      '    ],',
      '    "min_valid_object_sizes": "None",',
      '    "num_samples": 1,',
      '    "validation_final": "validation_raw_postprocessed",',
      '    "validation_raw": "validation_raw"',
      '}',
    ].join('\n'),
  );
  // step 1 removes the stray 3 and 1: class 1 better, class 3 0 → NaN (not worse)
  assert.deepEqual(parsePostprocessingJson(text), {
    forWhichClasses: [[1, 10, 2, 3]],
    minValidObjectSizes: null,
  });
});

test('postprocessing.json as nnU-Net wrote it is read: groups, classes, sizes (numpy 1 and 2 prints)', () => {
  const file = JSON.stringify({
    dc_per_class_raw: { 1: 0.9 },
    for_which_classes: [[1, 2, 3], 2],
    min_valid_object_sizes: '{(1, 2, 3): 25089.0, 2: np.float64(8.5)}',
    num_samples: 5,
  });
  const spec = parsePostprocessingJson(file);
  assert.deepEqual(spec.forWhichClasses, [[1, 2, 3], 2]);
  assert.deepEqual(
    [...(spec.minValidObjectSizes ?? [])],
    [
      ['(1, 2, 3)', 25089],
      ['2', 8.5],
    ],
  );
  // older files have no min_valid_object_sizes at all (None)
  assert.equal(parsePostprocessingJson('{"for_which_classes": [1]}').minValidObjectSizes, null);
  // ours round-trips
  const ours: PostprocessSpec = {
    forWhichClasses: [[1, 2], 3],
    minValidObjectSizes: new Map([
      ['(1, 2)', 3],
      ['3', 0.5],
    ]),
  };
  const text = postprocessingToJson(ours);
  assert.match(text, /"min_valid_object_sizes": "\{\(1, 2\): 3\.0, 3: 0\.5\}"/);
  assert.deepEqual(parsePostprocessingJson(text), ours);
});

test('a malformed postprocessing.json: one BAD_INPUT error that names the problem', () => {
  const bad: [string, RegExp][] = [
    ['{"for_which_classes": [1,', /not JSON/],
    ['[1, 2]', /expected an object/],
    ['{"min_valid_object_sizes": "None"}', /for_which_classes is missing/],
    ['{"for_which_classes": 3}', /for_which_classes is not a list/],
    ['{"for_which_classes": [0]}', /for_which_classes\[0\].*0 is the background/],
    ['{"for_which_classes": [1, "2"]}', /for_which_classes\[1\] is "2"/],
    ['{"for_which_classes": [[]]}', /non-empty list/],
    ['{"for_which_classes": [1.5]}', /1\.5 is not a label/],
    ['{"for_which_classes": [1], "min_valid_object_sizes": {"1": 3}}', /must be a string/],
    ['{"for_which_classes": [1], "min_valid_object_sizes": "{1: big}"}', /not a dict of sizes/],
    ['{"for_which_classes": [[1, 2], 1], "min_valid_object_sizes": "{1: 3.0}"}', /no size for \(1, 2\)/],
  ];
  for (const [text, why] of bad)
    assert.throws(
      () => parsePostprocessingJson(text),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'BAD_INPUT', text);
        assert.match(e.message, /^postprocessing\.json: /, text);
        assert.match(e.message, why, text);
        return true;
      },
    );
});

test('applyPostprocessing: in place, sizes need the spacing', () => {
  const labels = Float32Array.from(row('11 0 111 00 1'));
  const spec: PostprocessSpec = { forWhichClasses: [1], minValidObjectSizes: new Map([['1', 2.5]]) };
  assert.throws(() => applyPostprocessing(labels, [1, 1, 9], spec), /spacing is needed/);
  const out = applyPostprocessing(labels, [1, 1, 9], spec, [1, 1, 1]); // 2 voxels = 2 mm³ < 2.5: removed
  assert.equal(out, labels);
  assert.deepEqual([...labels], [...row('00 0 111 00 0')]);
});

/** A random dataset: boxes per class as references, predictions with flipped voxels and stray boxes. */
function randomDataset(seed: number): { cases: PostprocessCase[]; classes: number[] } {
  const rng = new Rng(seed);
  const r = (): number => rng.next();
  const dims = [6, 8, 8] as const;
  const box = (a: Uint8Array, label: number, maxSide: number): void => {
    const s = dims.map(() => 1 + Math.floor(r() * maxSide));
    const o = dims.map((d, i) => Math.floor(r() * (d - (s[i] as number) + 1)));
    const [oz = 0, oy = 0, ox = 0] = o;
    const [sz = 0, sy = 0, sx = 0] = s;
    for (let z = oz; z < oz + sz; z++)
      for (let y = oy; y < oy + sy; y++) for (let x = ox; x < ox + sx; x++) a[(z * 8 + y) * 8 + x] = label;
  };
  const k = 1 + Math.floor(r() * 4);
  const n = 1 + Math.floor(r() * 4);
  const cases = Array.from({ length: n }, (): PostprocessCase => {
    const ref = new Uint8Array(6 * 8 * 8);
    for (let l = 1; l <= k; l++) {
      if (r() < 0.85) box(ref, l, 4);
      if (r() < 0.3) box(ref, l, 2);
    }
    const pred = ref.slice();
    for (let i = 0; i < pred.length; i++) if (r() < 0.03) pred[i] = r() < 0.5 ? 0 : 1 + Math.floor(r() * k);
    for (let b = Math.floor(r() * 4); b > 0; b--) box(pred, 1 + Math.floor(r() * k), 2);
    return { prediction: pred, reference: ref, dimsZYX: dims, spacingZYX: [1.1, 0.7, 0.3] };
  });
  return { cases, classes: Array.from({ length: k }, (_, i) => i + 1) };
}

const fnv1a = (s: string): number => {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
};

test('random datasets: postprocessing.json byte for byte as nnU-Net 1.7.1 writes it (frozen)', () => {
  // Checked once by hand: 60 such datasets × {default, advanced} × dice_threshold {0, 0.01} through a
  // line-by-line transliteration of determine_postprocessing (scipy 1.17.1 label, v1 Dice, np.nanmean,
  // json.dumps(sort_keys=True, indent=4)) gave the same 240 files; these are the FNV-1a hashes of a few.
  const frozen: [number, boolean, number, string, string, number][] = [
    [100, false, 0, '[[1]]', 'None', 297143305],
    [100, true, 0, '[[1]]', '{(1,): 0.6930000000000001}', 4045936502],
    [102, false, 0, '[]', 'None', 2110909804],
    [102, true, 0, '[]', '{}', 1301146422],
    [103, false, 0, '[1, 2]', 'None', 3104945266],
    [103, false, 0.01, '[2]', 'None', 1300853043],
    [103, true, 0, '[2]', '{2: 1.617}', 354563860],
    [104, false, 0, '[1, 2, 4]', 'None', 2299180088],
    [104, false, 0.01, '[1, 4]', 'None', 2156984400],
    [104, true, 0, '[1, 2, 3]', '{1: 1.3860000000000001, 2: 0.924, 3: 0.6930000000000001}', 1447151953],
    [109, false, 0, '[1, 2, 3, 4]', 'None', 579940561],
    [109, true, 0.01, '[2, 3, 4]', '{2: 0.924, 3: 0.924, 4: 0.462}', 3367277756],
    [114, false, 0, '[[1, 2], 1, 2]', 'None', 3769101764],
    [114, false, 0.01, '[[1, 2], 2]', 'None', 4186044505],
    [
      114,
      true,
      0,
      '[[1, 2], 1, 2]',
      '{(1, 2): 0.6930000000000001, 1: 0.6930000000000001, 2: 1.617}',
      878857054,
    ],
    [114, true, 0.01, '[[1, 2], 2]', '{(1, 2): 0.6930000000000001, 2: 1.617}', 3788248739],
  ];
  for (const [seed, advanced, diceThreshold, which, sizes, hash] of frozen) {
    const { cases, classes } = randomDataset(seed);
    const r = determinePostprocessing(cases, classes, { advanced, diceThreshold });
    const text = postprocessingToJson(r);
    const what = `seed ${seed}, advanced ${advanced}, threshold ${diceThreshold}`;
    assert.equal(JSON.stringify(r.forWhichClasses).replace(/,/g, ', '), which, what);
    assert.ok(text.includes(`"min_valid_object_sizes": "${sizes}"`), what);
    assert.equal(fnv1a(text), hash, what);
  }
});

test('counts of a post-processed variant (raw counts + changed voxels) = computeCaseMetrics on it', () => {
  const rng = new Rng(7);
  const dims = [5, 6, 7] as const;
  const n = 5 * 6 * 7;
  const draw = (): number => (rng.next() < 0.5 ? 0 : Math.floor(rng.next() * 6)); // 5: not a class here
  const classes = [1, 2, 4, 3];
  for (let trial = 0; trial < 20; trial++) {
    const reference = Uint8Array.from({ length: n }, draw);
    const raw = Float32Array.from({ length: n }, draw);
    const base = compactLabels(raw);
    assert.ok(base instanceof Uint8Array);
    const changed = base.slice();
    keepLargestComponent(changed, dims, trial % 2 === 0 ? [[1, 2, 3, 4]] : classes);
    for (let i = 0; i < n; i += 11) changed[i] = draw(); // relabellings too, not only removals
    const counts = countClasses(reference, base, classes);
    for (const [labels, c] of [
      [base, counts],
      [changed, countChanges(counts, reference, base, changed)],
    ] as const)
      assert.deepEqual(
        countsToMetrics(c),
        computeCaseMetrics(reference, labels, dims, { labelsOrRegions: classes }),
        `trial ${trial}`,
      );
  }
});
