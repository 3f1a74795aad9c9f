/**
 * The README's library examples run as written, on the fixtures: the package names point at the sources,
 * the example's model and CT paths at the T1 checkpoint and a real CT crop, and `fetch` reads files.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cropNifti } from '../src/io/nifti-crop.js';
import { readNifti, writeNifti } from '../src/io/nifti.js';
import { tempDir } from './cli/cli-helpers.js';
import { fixturePath } from './helpers.js';
import { ROOT } from './architecture/graph.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const library = readme.slice(
  readme.indexOf('## Library'),
  readme.indexOf('\n## ', readme.indexOf('## Library') + 1),
);
const examples = [...library.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');

test('the README has a Node and a browser-safe library example', () => {
  assert.equal(examples.length, 2);
  assert.match(examples[0] ?? '', /from 'stunet\/node'/);
  assert.match(examples[1] ?? '', /from 'stunet'/);
});

for (const [i, example] of examples.entries())
  test(`README library example ${i + 1} runs`, () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'ct.nii.gz'),
      writeNifti(
        cropNifti(
          readNifti(readFileSync(fixturePath('nifti', 'example_ct_sm.nii.gz'))),
          [40, 30, 6],
          [36, 30, 14],
        ),
      ),
    );
    for (const f of ['T1.model', 'T1.model.pkl'])
      writeFileSync(
        join(dir, f.replace('T1', 'model_final_checkpoint')),
        readFileSync(fixturePath('stunet-forward', f)),
      );
    const code = example
      .replaceAll("'stunet/node'", `'${join(ROOT, 'src', 'node', 'index.ts')}'`)
      .replaceAll("'stunet'", `'${join(ROOT, 'src', 'index.ts')}'`)
      .replace(/^const MODEL = '[^']*';/m, "const MODEL = 'model_final_checkpoint.model';")
      .replace(
        /await fetch\(url\)/,
        "({ arrayBuffer: async () => (await import('node:fs')).readFileSync(url) })",
      );
    const file = join(dir, 'example.mts');
    writeFileSync(file, code);
    const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), file], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, i === 0 ? /seg\.nii\.gz.*\d+\.\d s/s : /\[ 'seg\.nii\.gz', 'seg\.json' \]/);
  });
