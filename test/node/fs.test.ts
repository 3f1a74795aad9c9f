import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeAllAtomic } from '../../src/node/fs.js';

test('writeAllAtomic names the file it could not write (its folder could not be made)', () => {
  assert.throws(
    () => {
      writeAllAtomic([{ path: '/dev/null/sub/seg.nii.gz', data: 'x' }]);
    },
    { code: 'RUNTIME', message: /^cannot write '\/dev\/null\/sub\/seg\.nii\.gz': / },
  );
});
