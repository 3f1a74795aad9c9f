/** The Node adapter: a folder (recursive), a zip, one file or a list of them, from disk. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { dicomFilesFromPaths, readDicomSeriesFromPaths } from '../../../src/node/dicom-files.js';
import { makeSeries } from './make-dicom.js';

test('a folder with subfolders, a zip, a list of files give the same series; a missing path is NOT_FOUND', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stunet-dicom-'));
  try {
    const files = makeSeries(4);
    mkdirSync(join(dir, 'series', 'part2'), { recursive: true });
    files.forEach((f, i) => {
      writeFileSync(join(dir, 'series', i < 2 ? '' : 'part2', f.name), f.bytes);
    });
    writeFileSync(
      join(dir, 'series.zip'),
      zipSync(Object.fromEntries(files.map((f) => [`a/${f.name}`, f.bytes]))),
    );
    const fromFolder = await readDicomSeriesFromPaths(join(dir, 'series'));
    const fromZip = await readDicomSeriesFromPaths(join(dir, 'series.zip'));
    const list = files.map((f, i) => join(dir, 'series', i < 2 ? '' : 'part2', f.name));
    const fromList = await readDicomSeriesFromPaths(list);
    assert.equal(fromFolder.image.dims[2], 4);
    assert.deepEqual(fromZip.image.data, fromFolder.image.data);
    assert.deepEqual(fromList.image.data, fromFolder.image.data);
    assert.deepEqual(
      (await dicomFilesFromPaths(join(dir, 'series'))).map((f) => f.name),
      ['part2/s002.dcm', 'part2/s003.dcm', 's000.dcm', 's001.dcm'],
    );
    await assert.rejects(readDicomSeriesFromPaths(join(dir, 'nope')), /dicom: .*nope does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
