import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStore } from '../../src/jobs/store.js';

test('MemoryStore: paths normalise as POSIX, folders exist where files lie below them', () => {
  const s = new MemoryStore([
    ['data/a/x.nii.gz', new Uint8Array([1, 2])],
    ['data/a/y.json', '{}'],
    ['data/b.txt', 'b'],
  ]);
  assert.equal(s.join('data', 'a', '..', 'b.txt'), 'data/b.txt');
  assert.equal(s.join('/root', '..', '..', 'x'), '/x');
  assert.equal(s.dirname('data/a/x.nii.gz'), 'data/a');
  assert.equal(s.basename('data/a/x.nii.gz'), 'x.nii.gz');
  assert.ok(s.isDirectory('data') && s.isDirectory('data/a/') && !s.isDirectory('data/b.txt'));
  assert.deepEqual(s.list('data'), ['a', 'b.txt']);
  assert.deepEqual(s.read('./data//a/x.nii.gz'), new Uint8Array([1, 2]));
  assert.equal(s.size('data/a/y.json'), 2);
  assert.equal(s.size('data/none'), -1);
  assert.throws(() => s.read('data/none', 'input image'), {
    code: 'NOT_FOUND',
    message: /input image 'data\/none'/,
  });
  assert.throws(() => s.read('data/a'), { code: 'BAD_INPUT', message: /is a directory/ });
  assert.throws(() => s.list('nothing'), { code: 'NOT_FOUND' });
});

test('MemoryStore: rename moves folders whole, remove is recursive, a folder is never overwritten by a file', () => {
  const s = new MemoryStore([
    ['f/ckpt.partial/w', 'w1'],
    ['f/ckpt.partial/s', 's1'],
  ]);
  s.rename('f/ckpt.partial', 'f/ckpt');
  assert.deepEqual(s.list('f/ckpt'), ['s', 'w']);
  assert.ok(!s.exists('f/ckpt.partial'));
  assert.throws(() => {
    s.writeAll([
      { path: 'f/new', data: 'x' },
      { path: 'f/ckpt', data: 'y' },
    ]);
  }, /it is a folder/);
  assert.ok(!s.exists('f/new'), 'all or nothing');
  s.remove('f');
  assert.ok(!s.exists('f/ckpt/w') && !s.isDirectory('f'));
});
