import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { StunetError } from '../../src/util/errors.js';
import { loadPickle, loadTorch, unpickle, writeZip } from '../../src/checkpoint/index.js';
import { fixturePath } from '../helpers.js';
import { PROTO2, PROTO4, STOP, binunicode, pk, shortBinunicode } from './pickle-bytes.js';

// Hostile pickles are refused before anything could run: the unpickler only resolves whitelisted names and
// calls them as JS functions. Each pickle here would, in Python, create a marker file; we check it does not.

const marker = join(tmpdir(), `stunet-pickle-pwned-${process.pid}`);

function refused(
  bytes: Uint8Array,
  pattern: RegExp,
  load: (b: Uint8Array) => unknown = (b) => unpickle(b),
): void {
  assert.throws(
    () => load(bytes),
    (e: unknown) => {
      assert.ok(e instanceof StunetError, `expected a StunetError, got ${String(e)}`);
      assert.equal(e.code, 'UNSAFE_PICKLE', e.message);
      assert.match(e.message, pattern);
      assert.match(e.message, /refused/);
      return true;
    },
  );
  assert.equal(existsSync(marker), false, 'no side effect');
}

const osSystem = pk(...PROTO2, 'c', 'os\nsystem\n', ...binunicode(`touch ${marker}`), 0x85, 'R', STOP);

test('GLOBAL os.system + REDUCE is refused, naming the global', () => {
  refused(osSystem, /'os\.system'/);
  refused(osSystem, /'os\.system'/, loadPickle);
});

test('STACK_GLOBAL builtins.eval is refused', () => {
  const evil = pk(
    ...PROTO4,
    ...shortBinunicode('builtins'),
    ...shortBinunicode('eval'),
    0x93, // STACK_GLOBAL
    ...shortBinunicode(`__import__('os').system('touch ${marker}')`),
    0x85,
    'R',
    STOP,
  );
  refused(evil, /'builtins\.eval'/);
});

test('REDUCE of something that is not a whitelisted callable is refused', () => {
  // A str as the callable (what a confused or hostile stream would push).
  refused(
    pk(...PROTO2, ...binunicode('os.system'), ...binunicode(`touch ${marker}`), 0x85, 'R', STOP),
    /refused call.*str/,
  );
  // A whitelisted name that is a value, not a callable.
  refused(
    pk(...PROTO2, 'c', 'torch\nFloatStorage\n', ')', 'R', STOP),
    /refused call of 'torch\.FloatStorage'/,
  );
  // numpy's _reconstruct with a class other than ndarray.
  refused(
    pk(
      ...PROTO2,
      'c',
      'numpy.core.multiarray\n_reconstruct\n',
      'c',
      'torch\nFloatStorage\n',
      ')',
      0x86,
      'R',
      STOP,
    ),
    /_reconstruct/,
  );
  // NEWOBJ / INST / OBJ paths go through the same whitelist.
  refused(pk(...PROTO2, 'c', 'subprocess\nPopen\n', ')', 0x81, STOP), /'subprocess\.Popen'/);
  refused(pk('(', ...binunicode(`touch ${marker}`), 'i', 'os\nsystem\n', STOP), /'os\.system'/);
});

test('unknown opcodes and the extension registry are refused', () => {
  refused(pk(...PROTO2, 0xff, STOP), /unknown opcode 0xff/);
  refused(pk(...PROTO2, 0x99, STOP), /unknown opcode 0x99/);
  refused(pk(...PROTO2, 0x82, 1, STOP), /extension-registry/);
});

test('common gadget globals are all refused', () => {
  for (const g of [
    'builtins\ngetattr',
    '__builtin__\nexec',
    'copyreg\n_reconstructor',
    'posix\nsystem',
    'torch\nload',
    'numpy\nload',
    'collections\ndefaultdict',
  ]) {
    refused(pk(...PROTO2, 'c', `${g}\n`, STOP), new RegExp(`'${g.replace('\n', '\\.')}'`));
  }
});

test('a hostile data.pkl inside a torch zip is refused by loadTorch', () => {
  const zip = writeZip([
    { name: 'archive/data.pkl', data: osSystem },
    { name: 'archive/version', data: new TextEncoder().encode('3\n') },
  ]);
  refused(zip, /'os\.system'/, (b) => loadTorch(b));
});

test('a whole pickled nn.Module is refused with advice to save a state_dict', () => {
  const module = pk(...PROTO2, 'c', 'torch.nn.modules.conv\nConv3d\n', ')', 0x81, STOP);
  assert.throws(() => unpickle(module), /state_dict/);
});

test('the real fixtures only need whitelisted names', () => {
  assert.doesNotThrow(() =>
    loadTorch(readFileSync(fixturePath('stunet-forward', 'T2_checkpoint_final.pth'))),
  );
});
