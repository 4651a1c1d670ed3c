import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

// Data flows triples -> queries -> batches -> scores -> rows -> reports: no module imports back up that chain.

const SRC = join(import.meta.dirname, '..', 'src');

function importsOf(folder: string): { file: string; from: string }[] {
  return readdirSync(join(SRC, folder), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [...readFileSync(join(SRC, folder, f), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => ({ file: join(folder, f), from: m[1] })));
}

test('prompts/ imports nothing from model/, and bench/, run/, model/ and prompts/ nothing from report/', () => {
  const up = (folder: string, layer: string) => importsOf(folder).filter((i) => new RegExp(`(^|/)${layer}/`).test(i.from.replace(/^(\.\.\/)+/, '')));
  assert.deepEqual(up('prompts', 'model'), []);
  for (const folder of ['bench', 'run', 'model', 'prompts']) assert.deepEqual(up(folder, 'report'), [], folder);
});
