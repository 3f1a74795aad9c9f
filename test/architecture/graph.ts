/**
 * The source import graph, read from the text of src/**.ts: static `import … from`, `export … from`,
 * side-effect `import '…'` and dynamic `import('…')`. Relative specifiers resolve to files; bare ones
 * (packages, `node:` built-ins) are kept as external names.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface SourceFile {
  /** Repo-relative path with forward slashes, e.g. `src/io/nifti.ts`. */
  readonly path: string;
  readonly text: string;
  /** Repo-relative paths of imported source files. */
  readonly imports: readonly string[];
  /** Bare specifiers: packages and Node built-ins. */
  readonly externals: readonly string[];
}

const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*'([^']+)'|(?:^|[\s;])import\s*'([^']+)'|import\(\s*'([^']+)'\s*\)/gm;

export function readSources(dir = 'src'): Map<string, SourceFile> {
  const out = new Map<string, SourceFile>();
  for (const f of readdirSync(join(ROOT, dir), { recursive: true }) as string[]) {
    if (!f.endsWith('.ts') || f.includes('/assembly/') || f.startsWith('assembly')) continue;
    const path = `${dir}/${f.replaceAll('\\', '/')}`;
    const text = readFileSync(join(ROOT, path), 'utf8');
    const imports: string[] = [];
    const externals: string[] = [];
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec === undefined) continue;
      if (spec.startsWith('.')) {
        const target = normalize(join(dirname(path), spec))
          .replaceAll('\\', '/')
          .replace(/\.js$/, '.ts');
        imports.push(target.endsWith('.json') ? target : target);
      } else externals.push(spec);
    }
    out.set(path, { path, text, imports, externals });
  }
  return out;
}

/** Every source file reachable from `entry` (itself included). */
export function reachable(files: ReadonlyMap<string, SourceFile>, entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  for (let p = stack.pop(); p !== undefined; p = stack.pop()) {
    if (seen.has(p)) continue;
    seen.add(p);
    for (const q of files.get(p)?.imports ?? []) if (!seen.has(q)) stack.push(q);
  }
  return seen;
}

/** The top-level folder of `src/<folder>/…`; files directly in src/ belong to the root layer ''. */
export function topFolder(path: string): string {
  const parts = relative('src', path).split('/');
  return parts.length > 1 ? (parts[0] ?? '') : '';
}

/** The folder (directory) of a file, e.g. `src/engine/backends/ref`. */
export const folderOf = (path: string): string => dirname(path);

/** Strongly connected components of size > 1 in a directed graph (Tarjan). */
export function cycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, idx.get(w) ?? 0));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
        onStack.delete(w);
        comp.push(w);
        if (w === v) break;
      }
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** Folder → folders it imports from (self-edges dropped). */
export function folderEdges(files: ReadonlyMap<string, SourceFile>): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const f of files.values()) {
    const from = folderOf(f.path);
    const set = edges.get(from) ?? new Set<string>();
    edges.set(from, set);
    for (const t of f.imports) if (folderOf(t) !== from) set.add(folderOf(t));
  }
  return edges;
}
