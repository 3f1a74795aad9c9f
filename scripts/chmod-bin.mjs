// tsc writes the CLI entry without the executable bit; `npx stunet` in this repo runs the file directly.
import { chmodSync } from 'node:fs';
chmodSync(new URL('../dist/src/cli/index.js', import.meta.url), 0o755);
