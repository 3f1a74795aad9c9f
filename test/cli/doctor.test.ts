/**
 * `stunet doctor`: the text block for a bug report and its --json form, against what this process
 * knows of the machine, with a model cache made here ($STUNET_HOME).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DoctorReport } from '../../src/node/doctor.js';
import { wasmSimdSupport } from '../../src/node/doctor.js';
import { updateManifest } from '../../src/node/model-cache.js';
import { ortVersion } from '../../src/onnx/session-node.js';
import { ROOT, runCli, tempDir } from './cli-helpers.js';

const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** A cache with one installed model: its checkpoint intact, its plans file shorter than recorded. */
function cache(): string {
  const home = join(tempDir(), 'stunet-home');
  const dir = join(home, 'models', 'mine');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'mine.model'), new Uint8Array(1000));
  writeFileSync(join(dir, 'mine.model.pkl'), new Uint8Array(10));
  updateManifest(home, 'mine', {
    checkpoint: 'mine.model',
    files: {
      'mine.model': { bytes: 1000, sha256: '0'.repeat(64) },
      'mine.model.pkl': { bytes: 12, sha256: '1'.repeat(64) },
    },
    source: 'file:/somewhere/mine.model',
    added: '2026-01-01T00:00:00.000Z',
    scale: null,
  });
  return home;
}

function doctor(args: readonly string[], home: string): ReturnType<typeof runCli> {
  const before = process.env['STUNET_HOME'];
  process.env['STUNET_HOME'] = home; // the CLI inherits this process's environment
  try {
    return runCli(['doctor', ...args]);
  } finally {
    if (before === undefined) delete process.env['STUNET_HOME'];
    else process.env['STUNET_HOME'] = before;
  }
}

test('the SIMD probes are real modules: SIMD128 validates; relaxed SIMD only where the engine has it', () => {
  const s = wasmSimdSupport();
  assert.equal(s.simd128, true);
  // Node 20 ships relaxed SIMD behind a flag this test process does not set; later Node versions ship it
  assert.equal(s.relaxedSimd, !process.versions.node.startsWith('20.'));
});

test('doctor --json: versions, cores, SIMD, providers, memory and the cache with its files', () => {
  const home = cache();
  const r = doctor(['--json'], home);
  assert.equal(r.status, 0, r.stderr);
  const d = JSON.parse(r.stdout) as DoctorReport;
  assert.equal(d.stunet, version);
  assert.equal(d.node, process.version);
  assert.equal(d.onnxruntime, ortVersion());
  assert.equal(d.arch, process.arch);
  assert.ok(d.platform.startsWith(process.platform));
  assert.equal(d.cpu.logicalCores, cpus().length);
  assert.equal(d.cpu.availableParallelism, availableParallelism());
  // the CLI turns relaxed SIMD on (Node 20's flag) and the wasm kernels use it
  assert.deepEqual(d.wasm, { simd128: true, relaxedSimd: true, kernels: 'relaxed' });
  const cpu = d.executionProviders.find((p) => p.name === 'cpu');
  assert.deepEqual(cpu, { name: 'cpu', bundled: true, works: true, note: 'works' });
  for (const p of d.executionProviders.filter((q) => q.name === 'cuda' || q.name === 'webgpu'))
    assert.ok(p.works === true ? p.note === 'works' : p.note.length > 0, JSON.stringify(p));
  assert.equal(d.memory.totalBytes, totalmem());
  assert.ok(d.memory.availableBytes > 0 && d.memory.availableBytes <= d.memory.totalBytes);
  assert.equal(d.cache.home, home);
  assert.equal(d.cache.from, '$STUNET_HOME');
  assert.deepEqual(
    d.cache.files.map((f) => [f.path, f.bytes]),
    [
      ['manifest.json', readFileSync(join(home, 'manifest.json')).length],
      [join('models', 'mine', 'mine.model'), 1000],
      [join('models', 'mine', 'mine.model.pkl'), 10],
    ],
  );
  assert.deepEqual(d.cache.models, [
    { name: 'mine', checkpoint: 'mine.model', problems: ['mine.model.pkl has 10 bytes, 12 were recorded'] },
  ]);
});

test('doctor: a plain text block; --no-probe opens no session; a missing cache is said so', () => {
  const home = cache();
  const r = doctor([], home);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^stunet +${version.replace(/\./g, '\\.')}$`, 'm'));
  assert.match(r.stdout, /^node +v\d+\.\d+\.\d+ \(V8 /m);
  assert.match(
    r.stdout,
    new RegExp(`^cpu +.*, ${cpus().length} logical cores, ${availableParallelism()} available$`, 'm'),
  );
  assert.match(r.stdout, /^wasm simd +simd128 yes, relaxed-simd yes; kernels: relaxed$/m);
  assert.match(r.stdout, /^providers +cpu +bundled +works$/m);
  assert.match(r.stdout, /^ +webgpu +bundled +\S/m);
  assert.match(r.stdout, /^memory +[\d.]+ GiB total, [\d.]+ GiB free, [\d.]+ GiB available to stunet/m);
  assert.match(
    r.stdout,
    new RegExp(`^model cache +${home.replace(/[/.]/g, '\\$&')} \\(\\$STUNET_HOME\\): 3 files, `, 'm'),
  );
  assert.match(r.stdout, /^ +models\/mine\/mine\.model +1000 B$/m);
  assert.match(r.stdout, /^ +model mine: mine\.model\.pkl has 10 bytes, 12 were recorded$/m);
  const quick = doctor(['--no-probe'], join(tempDir(), 'nothing-here'));
  assert.equal(quick.status, 0, quick.stderr);
  assert.match(quick.stdout, /^providers +cpu +bundled +not probed$/m);
  assert.match(quick.stdout, /^model cache +\S+nothing-here \(\$STUNET_HOME\): does not exist yet$/m);
});
