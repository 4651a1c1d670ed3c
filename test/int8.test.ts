// tier: full (needs Python)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CONTRACT } from '../src/model/contract.js';
import { readResults, requireRun, withStoreSync } from '../src/store/db.js';
import { p1ByStyle, top1Agreement } from '../src/report/precision.js';
import { cli, SAMPLE_DATA, tempDir } from './support/cli.js';

// `--precision int8` on the known-answer checkpoint (a small LUKE model trained here): tools/quantize_int8.py under
// the project's .venv (make python-env), then both precisions on the sample in both styles. Measured 2026-11-25:
// P@1 identical in both styles (word 64.0%, entity 72.9%), top-1 agreement 2384/2392.
const ROOT = join(import.meta.dirname, '..');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const KNOWN = join(ROOT, 'datasets', 'known-answer');
const hasQuantiser = spawnSync(PYTHON, ['-c', 'import onnx.reference, onnxruntime.quantization'], { stdio: 'ignore' }).status === 0;
const skip = !hasQuantiser && 'the Python environment or its quantiser is missing (make python-env)';

/** A quantised copy of the known-answer checkpoint in a temporary folder. */
function quantisedCopy(): string {
  const dir = join(tempDir('mlama-int8-'), 'ck');
  cpSync(KNOWN, dir, { recursive: true });
  const q = spawnSync(PYTHON, [join(ROOT, 'tools/quantize_int8.py'), dir], { encoding: 'utf8' });
  assert.equal(q.status, 0, q.stderr);
  return dir;
}

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, CONTRACT.manifest), 'utf8'));

test('the quantiser records its int8 graphs in the manifest, changes nothing else there, and a re-run replaces its entry', { skip }, () => {
  const dir = quantisedCopy();
  const m = manifestOf(dir);
  assert.deepEqual(m.precisions, {
    int8: {
      graphs: { gathered: 'model.int8.onnx', words: 'model.words.int8.onnx' },
      weights: ['model.int8.onnx.data', 'weights.bin', 'model.words.int8.onnx.data'],
      quantiser: m.precisions.int8.quantiser,
    },
  });
  assert.match(m.precisions.int8.quantiser, /^onnxruntime \d+\.\d+ dynamic, int8 weights, per-tensor$/);
  const { precisions, ...rest } = m;
  assert.deepEqual(rest, manifestOf(KNOWN));
  const size = readFileSync(join(dir, 'model.int8.onnx.data')).length;
  const again = spawnSync(PYTHON, [join(ROOT, 'tools/quantize_int8.py'), dir], { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(manifestOf(dir), m);
  assert.equal(readFileSync(join(dir, 'model.int8.onnx.data')).length, size, 'the side file is rewritten, not appended to');
  const bad = spawnSync(PYTHON, [join(ROOT, 'tools/quantize_int8.py'), join(dir, 'nope')], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, `error: ${join(dir, 'nope', CONTRACT.manifest)}: missing (not a checkpoint directory: tools/export_mluke.py writes one)\n`);
});

test('int8 agrees with float32 on the known-answer checkpoint; it is stored as int8, resumes only as int8, and compares with float32', { skip }, async () => {
  const ck = quantisedCopy();
  const db = join(tempDir('mlama-int8-'), 'r.sqlite');
  const run = (name: string, ...more: string[]) =>
    cli('run', '--model', ck, '--data', SAMPLE_DATA, '--styles', 'word,entity', '--name', name, '--db', db, '--threads', '1', ...more);
  const f = await run('f32');
  assert.equal(f.code, 0, f.err);
  assert.doesNotMatch(f.out, /precision/);
  const q = await run('i8', '--precision', 'int8');
  assert.equal(q.code, 0, q.err);
  assert.match(q.out, /^run i8 \(#2, complete\) {2}styles \["word","entity"\] {2}precision int8 {2}numbers in %$/m);

  const [a, b, stored] = withStoreSync(db, { readonly: true }, (s) => {
    const [ra, rb] = [requireRun(s, 'f32'), requireRun(s, 'i8')];
    return [readResults(s, ra.id), readResults(s, rb.id), { f32: ra.options.precision, i8: rb.options.precision, ck: [ra.checkpoint, rb.checkpoint] }];
  });
  assert.deepEqual([stored.f32, stored.i8], ['float32', 'int8']);
  assert.notEqual(stored.ck[0].graph, stored.ck[1].graph, 'the fingerprint hashes the int8 graph');
  const t = top1Agreement(b, a);
  assert.equal(t.compared, 2392);
  const [pa, pb] = [p1ByStyle(a), p1ByStyle(b)];
  console.log(`# top-1 agreement ${t.same}/${t.compared}; P@1 float32 ${JSON.stringify(pa)} int8 ${JSON.stringify(pb)}`);
  assert.ok(t.same / t.compared >= 0.99, `${t.same}/${t.compared}`);
  assert.deepEqual(Object.keys(pb).sort(), ['entity', 'word']);
  for (const s of ['word', 'entity']) assert.ok(Math.abs(pa[s] - pb[s]) <= 0.02, `${s}: ${pa[s]} vs ${pb[s]}`);

  const listed = await cli('runs', '--db', db);
  assert.match(listed.out, /│ i8 +│ complete +│ +2392 │ +2392 │ \["word","entity"\] precision int8 │/);
  assert.match(listed.out, /│ f32 +│ complete +│ +2392 │ +2392 │ \["word","entity"\] +│/);

  const resumed = await cli('run', '--resume', 'i8', '--precision', 'float32', '--db', db);
  assert.equal(resumed.code, 2);
  assert.match(resumed.err, /^error: cannot resume "i8": it was run with different inputs \(precision: "int8" vs "float32"; checkpoint graph: [^\n]*\)\n$/);
  const kept = await cli('run', '--resume', 'i8', '--db', db);
  assert.equal(kept.code, 0, kept.err);
  assert.match(kept.out, /run "i8" is already complete/);

  // 299 queries per cell can show a drop of about 4 points at the gate's family-wise alpha, not 2 (docs/GATE.md).
  const c = await cli('compare', 'f32', 'i8', '--db', db, '--fail-on-drop', '5');
  assert.equal(c.code, 0, c.out + c.err);
  assert.match(c.out, /^A = f32 \(#1\) {2}B = i8 \(#2\)$/m);
  assert.match(c.out, /ok: no language dropped more than 5 points/);
});

test('shards scored at different precisions do not merge: the int8 graph is in the checkpoint fingerprint', { skip }, async () => {
  const ck = quantisedCopy();
  const dir = tempDir('mlama-int8-');
  const shard = (i: number, file: string, ...more: string[]) =>
    cli('run', '--model', ck, '--data', SAMPLE_DATA, '--languages', 'en', '--limit', '2', '--shard', `${i}/2`, '--name', 's', '--db', join(dir, file), ...more);
  for (const [i, file, ...more] of [
    [0, 'f0.sqlite'],
    [1, 'f1.sqlite'],
    [1, 'q1.sqlite', '--precision', 'int8'],
  ] as const) {
    const r = await shard(i, file, ...more);
    assert.equal(r.code, 0, r.err);
  }
  const m = await cli('merge', join(dir, 'mixed.sqlite'), join(dir, 'f0.sqlite'), join(dir, 'q1.sqlite'));
  assert.equal(m.code, 2);
  assert.match(m.err, /^error: [^\n]*q1\.sqlite: shard 1\/2 does not match [^\n]*f0\.sqlite \(checkpoint graph: [^\n]*\)\n$/);
  const ok = await cli('merge', join(dir, 'same.sqlite'), join(dir, 'f0.sqlite'), join(dir, 'f1.sqlite'));
  assert.equal(ok.code, 0, ok.err);
});
