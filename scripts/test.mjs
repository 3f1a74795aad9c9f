// Runs every test/**/*.test.ts with node's test runner (Node 20's --test does not pick up .ts files).
// Extra arguments are passed through; file arguments narrow the run (`npm test -- test/io`).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const roots = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const files = [];
for (const root of roots.length > 0 ? roots : ['test']) {
  if (statSync(root).isFile()) files.push(root);
  else for (const f of readdirSync(root, { recursive: true })) if (String(f).endsWith('.test.ts')) files.push(join(root, String(f)));
}
files.sort();
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...flags, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
