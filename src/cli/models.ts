import type { Command } from 'commander';
import { formatBytes } from '../model/memory.js';
import { listModels, modelPath, stunetHome, verifyModels } from '../node/model-cache.js';
import { downloadModel, installModel } from '../node/model-install.js';
import { consoleProgress } from '../util/progress.js';
import { interruptible } from './interrupt.js';

interface ListOptions {
  json?: boolean;
}

interface DownloadOptions {
  force?: boolean;
}

interface InstallOptions {
  name?: string;
}

const params = (n: number | null): string =>
  n === null ? '-' : n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : `${(n / 1e6).toFixed(1)} M`;

function printList(json: boolean): void {
  const rows = listModels();
  if (json) {
    console.log(JSON.stringify({ home: stunetHome(), models: rows }, null, 2));
    return;
  }
  console.log(`model cache: ${stunetHome()} (set STUNET_HOME to move it)`);
  const table = rows.map((r) => [
    r.name,
    r.scale ?? '-',
    params(r.parameters),
    r.bytes === null ? '-' : `${r.estimated ? '≈' : ''}${formatBytes(r.bytes)}`,
    r.cached ? 'yes' : 'no',
    r.path ?? `stunet models download ${r.scale ?? r.name}`,
  ]);
  const head = ['name', 'scale', 'params', 'size', 'cached', 'path'];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] ?? '').length)));
  for (const row of [head, ...table])
    console.log(
      row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
}

export function registerModels(program: Command): void {
  const models = program
    .command('models')
    .description('released STU-Net models by name (S, B, L, H): list, download, install, path, verify');
  models
    .command('list')
    .description('the released models and every installed one: scale, parameters, size, cached or not, path')
    .option('--json', 'print {"home": dir, "models": [{name, scale, parameters, bytes, cached, path, …}]}')
    .action((o: ListOptions) => {
      printList(o.json === true);
    });
  models
    .command('download <name>')
    .description(
      'download a released model (S, B, L, H) into the cache: Hugging Face, then Google Drive; resumable; ' +
        'size and sha256 checked (pinned where known, else recorded for verify)',
    )
    .option('--force', 'download again even when it is cached')
    .action(async (name: string, o: DownloadOptions) => {
      const r = await interruptible(
        `download of ${name} stopped; run the same command again to resume it`,
        (signal) =>
          downloadModel(name, { signal, progress: consoleProgress(process.stderr), force: o.force === true }),
      );
      if (r.alreadyCached) console.log(`${r.name} is cached already (--force to download again): ${r.path}`);
      else console.log(`${r.name}: ${formatBytes(r.bytes)} from ${r.source}, sha256 ${r.sha256}\n${r.path}`);
    });
  models
    .command('install <file>')
    .description(
      'add a model obtained by hand (a released .model, with or without its .pkl; a v2 .pth; a model folder) ' +
        'after checking that it loads as an STU-Net',
    )
    .option(
      '--name <name>',
      'the name -m takes: a registry name (S, B, L, H) for a released checkpoint, or your own (default: from the file name, e.g. large_ep4k.model)',
    )
    .action((file: string, o: InstallOptions) => {
      const r = installModel(file, o.name === undefined ? {} : { name: o.name });
      console.log(`${r.name}: installed, sha256 ${r.sha256}\n${r.path}`);
    });
  models
    .command('path <name>')
    .description('print the cached checkpoint of a model (what -m <name> loads)')
    .action((name: string) => {
      console.log(modelPath(name));
    });
  models
    .command('verify [name]')
    .description('re-hash the cached files of one model (or all) against the recorded and released sha256')
    .action((name: string | undefined) => {
      const results = verifyModels(name);
      if (results.length === 0) console.log(`no models in ${stunetHome()}`);
      for (const r of results)
        console.log(r.problems.length === 0 ? `${r.name}: OK` : `${r.name}: BAD: ${r.problems.join('; ')}`);
      if (results.some((r) => r.problems.length > 0)) process.exitCode = 1;
    });
}
