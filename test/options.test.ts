import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, SAMPLE_DATA, sampleCopy, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';

const ck = tinyCheckpoint(1, false, SAMPLE_DATA);
const ENTRY = join(import.meta.dirname, '../src/cli/main-entry.ts');
const run = (...a: string[]) =>
  cli('run', '--data', SAMPLE_DATA, '--model', ck, '--languages', 'en', '--limit', '1', '--db', join(tempDir(), 'o.sqlite'), ...a);

function oneLine(r: { code: number; err: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, pattern);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
}

test('--threads above 4x the cores is refused; 4x is accepted', async () => {
  const cores = availableParallelism();
  oneLine(await run('--threads', '999'), new RegExp(`--threads 999 is more than 4x this machine's ${cores} cores`));
  assert.equal((await run('--threads', String(4 * cores))).code, 0);
});

test('--name 1 and --name latest are refused with the reason (ids and the latest alias)', async () => {
  oneLine(await run('--name', '1'), /--name "1" reads as a run id/);
  oneLine(await run('--name', 'latest'), /--name "latest" is the alias of the newest run/);
  oneLine(await cli('merge', join(tempDir(), 'm.sqlite'), join(tempDir(), 'x.sqlite'), '--name', '42'), /--name "42" reads as a run id/);
});

test('a GoogleRE candidate set for a relation that T-REx also has is refused, naming both files', async () => {
  const d = sampleCopy();
  mkdirSync(join(d, 'GoogleRE_objects'));
  writeFileSync(join(d, 'GoogleRE_objects', 'en.json'), JSON.stringify({ P19: { objects: ['Paris'] } }));
  const r = await cli('data', 'stats', '--data', d, '--languages', 'en');
  oneLine(r, /GoogleRE_objects\/en\.json: relation "P19" also has a candidate set in .*TREx_multilingual_objects\/en\.json/);
});

test('a byte-order mark is named as such: JSONL, candidate JSON, tokenizer, entity vocabulary', async () => {
  const bom = (f: string) => writeFileSync(f, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(f)]));
  const d1 = sampleCopy();
  bom(join(d1, 'en', 'P19.jsonl'));
  oneLine(await cli('data', 'stats', '--data', d1, '--languages', 'en'), /en\/P19\.jsonl:1: starts with a UTF-8 byte-order mark \(BOM\)/);
  const d2 = sampleCopy();
  bom(join(d2, 'TREx_multilingual_objects', 'en.json'));
  oneLine(await cli('data', 'stats', '--data', d2, '--languages', 'en'), /en\.json: starts with a UTF-8 byte-order mark \(BOM\)/);
  for (const f of ['tokenizer.json', 'entity_vocab.json']) {
    const m = join(tempDir(), 'ck');
    cpSync(ck, m, { recursive: true });
    bom(join(m, f));
    oneLine(await run('--model', m), new RegExp(`${f.replace('.', '\\.')}: starts with a UTF-8 byte-order mark \\(BOM\\)`));
  }
});

test("--device cuda without the CUDA provider: one line on stderr, none of onnxruntime's own log lines", () => {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      ENTRY,
      'run',
      '--data',
      SAMPLE_DATA,
      '--model',
      ck,
      '--languages',
      'en',
      '--limit',
      '1',
      '--db',
      join(tempDir(), 'c.sqlite'),
      '--device',
      'cuda',
    ],
    { encoding: 'utf8' },
  );
  if (r.status === 0) return; // a machine with CUDA: nothing to check
  assert.equal(r.status, 2, r.stderr);
  assert.deepEqual(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^error: --device cuda: /);
});

test('make-checkpoint --out under /proc fails in one line instead of retrying mkdir forever', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', ENTRY, 'make-checkpoint', '--out', '/proc/mlama-ck/tiny'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^error: \/proc\/mlama-ck\/tiny: cannot write the checkpoint \(ENOENT creating \/proc\/mlama-ck\)\n$/);
});
