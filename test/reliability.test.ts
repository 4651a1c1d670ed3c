import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, SAMPLE_DATA, sampleCopy, tempDir } from './support/cli.js';
import { poisonWeight, tinyCheckpoint } from './support/fixtures.js';
import { mlamaProcess, whenStored } from './support/spawn.js';
import { assertSameRows, storedRun } from './support/rows.js';

const ck = tinyCheckpoint(1, false, SAMPLE_DATA);
const dir = tempDir('mlama-reliability-');
const runArgs = (db: string) => ['run', '--model', ck, '--data', SAMPLE_DATA, '--styles', 'word,entity', '--threads', '1', '--batch-size', '8', '--db', db];
const TOTAL = 2392;

/** SIGKILLs the run once `when` holds of the stored run and answer counts. */
function killWhen(db: string, when: (runs: number, rows: number) => boolean) {
  return (kill: (s: NodeJS.Signals) => void) => whenStored(db, when, () => kill('SIGKILL'), 60000);
}

const reference = join(dir, 'reference.sqlite');

test('a run killed with SIGKILL at five points and resumed equals an uninterrupted run', async () => {
  const ref = await mlamaProcess([...runArgs(reference), '--name', 'r']);
  assert.equal(ref.code, 0, ref.err);
  const want = storedRun(reference, 'r');
  assert.equal(want.rows.length, TOTAL);
  const wantReport = JSON.parse((await cli('report', '--db', reference, '--run', 'r', '--format', 'json')).out);
  const points: [string, (runs: number, rows: number) => boolean][] = [
    ['after the run row, before any answer', (runs) => runs > 0],
    ['after the first batch', (_, rows) => rows >= 8],
    ['a quarter in', (_, rows) => rows >= 600],
    ['past half', (_, rows) => rows >= 1300],
    ['near the end', (_, rows) => rows >= 2300],
  ];
  for (const [i, [what, when]] of points.entries()) {
    const db = join(dir, `killed-${i}.sqlite`);
    const killed = await mlamaProcess([...runArgs(db), '--name', 'r'], {}, killWhen(db, when));
    assert.equal(killed.signal, 'SIGKILL', `${what}: the run finished before it could be killed`);
    const partial = storedRun(db, 'r');
    assert.equal(partial.status, 'running', `${what}: a killed run is left as it was`);
    assert.ok(partial.rows.length < TOTAL, what);
    const report = await cli('report', '--db', db, '--run', 'r', '--format', 'json');
    if (partial.rows.length) assert.match(report.err, /is running \(holder gone\): \d+\/2392 answers; the numbers cover only what is stored/);
    const resumed = await cli(...runArgs(db), '--resume', 'r');
    assert.equal(resumed.code, 0, `${what}: ${resumed.err}`);
    const got = storedRun(db, 'r');
    assert.equal(got.status, 'complete', what);
    assert.equal(got.rows.length, TOTAL, `${what}: no answer missing or doubled`);
    assertSameRows(got.rows, want.rows);
    const gotReport = JSON.parse((await cli('report', '--db', db, '--run', 'r', '--format', 'json')).out);
    assert.deepEqual(gotReport.languages, wantReport.languages, what);
    assert.deepEqual(gotReport.averages, wantReport.averages, what);
    console.log(`# killed ${what} (${partial.rows.length} answers stored), resumed: ${got.rows.length} answers, metrics equal`);
  }
});

test('a finished run is not re-run; resuming with other options, checkpoint or data is refused, naming the difference', async () => {
  const again = await cli(...runArgs(reference), '--resume', 'r');
  assert.equal(again.code, 0);
  assert.match(again.out, /already complete; nothing to do/);
  assert.equal(storedRun(reference, 'r').rows.length, TOTAL);
  // Refusals need a run that is not complete: kill one early.
  const db = join(dir, 'refusals.sqlite');
  await mlamaProcess(
    [...runArgs(db), '--name', 'p'],
    {},
    killWhen(db, (_, rows) => rows >= 8),
  );
  const options = await cli(...runArgs(db), '--resume', 'p', '--languages', 'en');
  assert.equal(options.code, 2);
  assert.match(options.err, /cannot resume "p": .*languages: \["ar","en","ja","zh"\] vs \["en"\]/);
  const other = tinyCheckpoint(2, false, SAMPLE_DATA);
  const model = await cli(...runArgs(db).map((a) => (a === ck ? other : a)), '--resume', 'p');
  assert.equal(model.code, 2);
  assert.match(model.err, /cannot resume "p": .*checkpoint weights/);
  const data = sampleCopy();
  appendFileSync(join(data, 'en', 'P19.jsonl'), '{"sub_uri": "Q1", "obj_uri": "Q90", "sub_label": "Someone", "obj_label": "Paris", "lineid": 999999}\n');
  const changed = await cli(...runArgs(db).map((a) => (a === SAMPLE_DATA ? data : a)), '--resume', 'p');
  assert.equal(changed.code, 2);
  assert.match(changed.err, /cannot resume "p": .*dataset en: /);
  const shard = await cli(...runArgs(db), '--resume', 'p', '--shard', '0/2');
  assert.equal(shard.code, 2);
  assert.match(shard.err, /shard: null vs "0\/2"/);
});

test('two runs writing one database at once both finish; integrity_check is ok', async () => {
  const db = join(dir, 'shared.sqlite');
  const [a, b] = await Promise.all([mlamaProcess([...runArgs(db), '--name', 'a']), mlamaProcess([...runArgs(db), '--name', 'b'])]);
  assert.equal(a.code, 0, a.err);
  assert.equal(b.code, 0, b.err);
  assert.equal(storedRun(db, 'a').rows.length, TOTAL);
  assert.equal(storedRun(db, 'b').rows.length, TOTAL);
  const d = new Database(db, { readonly: true });
  assert.equal(d.pragma('integrity_check', { simple: true }), 'ok');
  d.close();
});

test('a writer that holds the lock past the timeout gets "database busy", and nothing half-written counts as complete', async () => {
  const db = join(dir, 'busy.sqlite');
  assert.equal((await cli(...runArgs(db), '--name', 'first', '--languages', 'en', '--limit', '2')).code, 0);
  const holder = new Database(db);
  holder.exec('BEGIN IMMEDIATE');
  try {
    const r = await mlamaProcess([...runArgs(db), '--name', 'second', '--busy-timeout', '300']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /busy\.sqlite: database busy \(another process holds the write lock; gave up after the busy timeout\)/);
    assert.doesNotMatch(r.err, /internal error|at .*\.js:\d+/);
  } finally {
    holder.exec('ROLLBACK');
    holder.close();
  }
  const runs = await cli('runs', '--db', db);
  assert.doesNotMatch(runs.out, /second.*complete/);
  const d = new Database(db, { readonly: true });
  assert.equal(d.pragma('integrity_check', { simple: true }), 'ok');
  d.close();
});

test('a read-only or missing database directory gets a clear message', async () => {
  // Permission bits do not stop root; sysfs refuses new files to everyone.
  const readOnly =
    process.getuid?.() === 0
      ? '/sys'
      : (() => {
          const ro = join(tempDir(), 'ro');
          mkdirSync(ro, { mode: 0o500 });
          return ro;
        })();
  const r = await cli(...runArgs(join(readOnly, 'x.sqlite')), '--limit', '1');
  assert.equal(r.code, 2);
  assert.match(r.err, /results directory is not writable \(for .*x\.sqlite: E[A-Z]+\)/);
  const missing = await cli('report', '--db', join(dir, 'no', 'such', 'dir', 'x.sqlite'));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /x\.sqlite: results database not found \(directory .*no\/such\/dir does not exist\)/);
});

for (const [style, weight] of [
  ['word', 'lm_head.bias'],
  ['entity', 'entity_predictions.bias'],
] as const) {
  test(`a checkpoint that produces ${weight === 'lm_head.bias' ? 'NaN' : 'infinite'} scores stops the run naming the batch (${style} style)`, async () => {
    const bad = join(tempDir(), 'bad-ck');
    cpSync(ck, bad, { recursive: true });
    poisonWeight(bad, weight, style === 'word' ? NaN : Infinity);
    const db = join(dir, `nan-${style}.sqlite`);
    const r = await cli('run', '--model', bad, '--data', SAMPLE_DATA, '--styles', style, '--db', db, '--name', 'poisoned');
    assert.equal(r.code, 3);
    assert.match(r.err, /error: batch \d+: the model produced a non-finite score \((NaN|Infinity|-Infinity)\) for [a-z]{2}\|P\d+\|/);
    const s = storedRun(db, 'poisoned');
    assert.equal(s.status, 'failed');
    assert.ok(s.rows.every((row) => Number.isFinite(row.gold_score) && row.top.every((t) => Number.isFinite(t.score))));
    assert.ok(s.rows.length < s.planned);
  });
}
