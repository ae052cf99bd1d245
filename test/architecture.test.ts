/**
 * Dependencies between the top-level folders flow one way (STYLE.md): bin -> lib -> lib/runtime,
 * lambda -> lib/runtime. ESLint's import-x/no-restricted-paths says the same per file; this test
 * checks the whole graph in `npm test` whatever the lint setup.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

/** The layer of a repo path: 'runtime', 'lib', 'lambda' or 'bin'. */
function layer(file: string): string {
  if (file.startsWith('lib/runtime/')) return 'runtime';
  return file.split('/')[0];
}

/** Relative imports (static, dynamic, type-only and require) of a file, as repo paths. */
export function importsOf(file: string, text: string): string[] {
  const specs = [...text.matchAll(/(?:\bfrom|\bimport\(|\brequire\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  return specs.map((s) => path.relative(ROOT, path.resolve(ROOT, path.dirname(file), s)));
}

const ALLOWED: Record<string, string[]> = {
  runtime: ['runtime'],
  lambda: ['lambda', 'runtime'],
  lib: ['lib', 'runtime'],
  bin: ['bin', 'lib', 'runtime'],
};

const edges = ['lib', 'lambda', 'bin']
  .flatMap(sources)
  .flatMap((file) =>
    importsOf(file, readFileSync(path.join(ROOT, file), 'utf8')).map((target) => ({ file, target, from: layer(file), to: layer(target) })),
  );

test('every layer imports only the layers below it', () => {
  const wrong = edges.filter((e) => ALLOWED[e.from] && ALLOWED[e.to] && !ALLOWED[e.from].includes(e.to));
  expect(wrong.map((e) => `${e.file} imports ${e.target}`)).toEqual([]);
  // The graph is not empty: the check would pass vacuously if the scan found nothing.
  expect(edges.filter((e) => e.from === 'lambda' && e.to === 'runtime').length).toBeGreaterThan(5);
  expect(edges.filter((e) => e.from === 'lib' && e.to === 'runtime').length).toBeGreaterThan(5);
});

test('the scan sees every kind of relative import', () => {
  const text = [
    "import { a } from '../runtime/retry';",
    "import type { B } from './b';",
    "const c = require('../../lambda/shared/logger');",
    "const d = await import('./d');",
  ].join('\n');
  expect(importsOf('lib/ops/x.ts', text)).toEqual(['lib/runtime/retry', 'lib/ops/b', 'lambda/shared/logger', 'lib/ops/d']);
});
