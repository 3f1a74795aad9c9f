import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DownloadInterrupted, downloadFile } from '../../src/node/download.js';
import { StunetError } from '../../src/util/errors.js';
import type { ProgressEvent } from '../../src/util/progress.js';
import { tempDir } from '../cli/cli-helpers.js';
import { serve } from '../models/helpers.js';

// A zip-looking file of 3 MiB + 5 bytes (the first bytes are what a checkpoint starts with).
const DATA = new Uint8Array(3 * 1024 * 1024 + 5);
DATA.set(randomBytes(DATA.length));
DATA.set([0x50, 0x4b, 0x03, 0x04]);
const SHA = createHash('sha256').update(DATA).digest('hex');

const nothingLeft = (dest: string): void => {
  assert.equal(existsSync(dest), false, 'no file under the final name');
  assert.equal(existsSync(`${dest}.part`), false, 'no partial file');
};

test('download: whole file, size and sha256 checked, progress in MiB ending at the total, no .part left', async () => {
  const server = await serve(DATA);
  try {
    const dest = join(tempDir(), 'sub', 'm.model');
    const events: ProgressEvent[] = [];
    const r = await downloadFile(`${server.url}/m.model`, dest, {
      expectedBytes: DATA.length,
      sha256: SHA,
      progress: (e) => events.push(e),
    });
    assert.deepEqual(new Uint8Array(readFileSync(dest)), DATA);
    assert.deepEqual([r.bytes, r.sha256, r.resumedFrom], [DATA.length, SHA, 0]);
    assert.equal(existsSync(`${dest}.part`), false);
    assert.deepEqual(server.ranges, ['']);
    const last = events.at(-1);
    assert.deepEqual([last?.done, last?.total, events[0]?.done], [4, 4, 0]);
  } finally {
    await server.close();
  }
});

test('download: a dropped connection keeps the .part; the next call resumes it with a Range request', async () => {
  const server = await serve(DATA, 'drop');
  try {
    const dest = join(tempDir(), 'm.model');
    const url = `${server.url}/m.model`;
    await assert.rejects(downloadFile(url, dest, { sha256: SHA }), (e) => {
      assert.ok(e instanceof DownloadInterrupted, String(e));
      assert.match(e.message, /run the same command again to resume/);
      return true;
    });
    const kept = statSync(`${dest}.part`).size;
    assert.ok(kept > 0 && kept < DATA.length, `kept ${kept}`);
    assert.equal(existsSync(dest), false);
    server.mode = 'full';
    const r = await downloadFile(url, dest, { expectedBytes: DATA.length, sha256: SHA });
    assert.deepEqual(server.ranges, ['', `bytes=${kept}-`]);
    assert.equal(r.resumedFrom, kept);
    assert.deepEqual(new Uint8Array(readFileSync(dest)), DATA);
    assert.equal(r.sha256, SHA);
    assert.equal(existsSync(`${dest}.part`), false);
  } finally {
    await server.close();
  }
});

test('download: a .part from another URL is not resumed', async () => {
  const server = await serve(DATA, 'drop');
  try {
    const dest = join(tempDir(), 'm.model');
    await assert.rejects(downloadFile(`${server.url}/a`, dest), DownloadInterrupted);
    server.mode = 'full';
    const r = await downloadFile(`${server.url}/b`, dest, { sha256: SHA });
    assert.deepEqual([server.ranges.at(-1), r.resumedFrom], ['', 0]);
  } finally {
    await server.close();
  }
});

const rejectsWith = async (p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> => {
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof StunetError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
};

test('download: a wrong size (announced, or found at the end of a body without length) → error, nothing kept', async () => {
  const server = await serve(DATA);
  try {
    const dest = join(tempDir(), 'm.model');
    const url = `${server.url}/m.model`;
    await rejectsWith(
      downloadFile(url, dest, { expectedBytes: DATA.length + 1, pinnedBy: 'the test' }),
      'BAD_INPUT',
      new RegExp(
        `wrong size: the server has ${DATA.length} bytes, the released file has ${DATA.length + 1} \\(the test\\)`,
      ),
    );
    nothingLeft(dest);
    server.mode = 'chunked-short';
    await rejectsWith(
      downloadFile(url, dest, { expectedBytes: DATA.length }),
      'BAD_INPUT',
      new RegExp(`wrong size: got ${DATA.length - 100} bytes, the released file has ${DATA.length}`),
    );
    nothingLeft(dest);
  } finally {
    await server.close();
  }
});

test("download: an HTML page (Google Drive's confirm page), by content type or by content → error, nothing kept", async () => {
  const server = await serve(DATA, 'html');
  try {
    const dest = join(tempDir(), 'm.model');
    for (const mode of ['html', 'html-bytes'] as const) {
      server.mode = mode;
      await rejectsWith(
        downloadFile(`${server.url}/m`, dest),
        'BAD_INPUT',
        /sent an HTML page, not a checkpoint.*models install/,
      );
      nothingLeft(dest);
    }
  } finally {
    await server.close();
  }
});

test('download: a hash mismatch → error naming both hashes, nothing kept; a 404 → NOT_FOUND', async () => {
  const server = await serve(DATA);
  try {
    const dest = join(tempDir(), 'm.model');
    const wrong = '0'.repeat(64);
    await rejectsWith(
      downloadFile(`${server.url}/m`, dest, { sha256: wrong }),
      'BAD_INPUT',
      new RegExp(`sha256 mismatch: got ${SHA}, expected ${wrong}`),
    );
    nothingLeft(dest);
    server.mode = 'missing';
    await rejectsWith(downloadFile(`${server.url}/m`, dest), 'NOT_FOUND', /HTTP 404/);
    nothingLeft(dest);
  } finally {
    await server.close();
  }
});
