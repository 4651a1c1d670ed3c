import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, SAMPLE_DATA, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';

// compare --fail-on-drop is a gate: it parses its threshold strictly and fails closed on runs it cannot judge.

const ck1 = tinyCheckpoint(1, false, SAMPLE_DATA);
const db = join(tempDir(), 'gate.sqlite');
const run = (...a: string[]) => cli('run', '--data', SAMPLE_DATA, '--db', db, '--model', ck1, '--limit', '3', ...a);

/** A copy of run `from` named `to`, with `status` and only the rows `keep` (SQL) selects. */
function copyRun(from: string, to: string, status: string, keep = '1'): void {
  const raw = new Database(db);
  raw
    .prepare(`INSERT INTO runs (name, status, started_at, finished_at, options, harness_version, checkpoint, dataset, random_weights, planned)
               SELECT ?, ?, started_at, finished_at, options, harness_version, checkpoint, dataset, random_weights, planned FROM runs WHERE name = ?`)
    .run(to, status, from);
  raw
    .prepare(`INSERT INTO results (run_id, style, language, relation, template, subject, golds, lineids, top, gold_rank, gold_score, candidates, covered, shard, sub_uri, gold_uris, tie, template_main)
               SELECT (SELECT id FROM runs WHERE name = ?), style, language, relation, template, subject, golds, lineids, top, gold_rank, gold_score, candidates, covered, shard, sub_uri, gold_uris, tie, template_main
               FROM results WHERE run_id = (SELECT id FROM runs WHERE name = ?) AND (${keep})`)
    .run(to, from);
  raw.close();
}

// Every test reads these runs; none writes to them.
before(async () => {
  assert.equal((await run('--name', 'a')).code, 0);
  copyRun('a', 'same', 'complete');
  copyRun('a', 'half', 'interrupted', "language IN ('ar', 'en')");
  copyRun('a', 'no-ja-entity', 'complete', "NOT (language = 'ja' AND style = 'entity')");
  copyRun('a', 'fewer', 'complete', "NOT (language = 'zh' AND relation = 'P19')");
});

test('the same answers pass the gate', async () => {
  const r = await cli('compare', 'a', 'same', '--db', db, '--fail-on-drop', '1');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /ok: no language dropped more than 1 points/);
});

test('--fail-on-drop takes a plain non-negative number: abc, 1pt, 1,5, -1, NaN are refused with one line', async () => {
  for (const bad of ['abc', '1pt', '1,5', '-1', 'NaN', '', 'Infinity']) {
    const r = await cli('compare', 'a', 'same', '--db', db, '--fail-on-drop', bad);
    assert.equal(r.code, 2, `${bad}: ${r.out}${r.err}`);
    assert.match(r.err, new RegExp(`--fail-on-drop must be a non-negative number of points .*got "${bad}"`));
    assert.equal(r.err.trim().split('\n').length, 1);
  }
  assert.equal((await cli('compare', 'a', 'same', '--db', db, '--fail-on-drop', '0.5')).code, 0);
});

test('a gate against an incomplete run B fails closed, naming why', async () => {
  const r = await cli('compare', 'a', 'half', '--db', db, '--fail-on-drop', '100');
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /FAIL: run "half" is interrupted/);
  assert.match(r.out, /FAIL: run "half" lacks ja\/entity, ja\/word, zh\/entity, zh\/word that "a" has/);
  // Without a gate, compare only reports.
  assert.equal((await cli('compare', 'a', 'half', '--db', db)).code, 0);
});

test('a gate from an incomplete baseline A fails closed: a regression where A stopped would go unchecked', async () => {
  const r = await cli('compare', 'half', 'a', '--db', db, '--fail-on-drop', '100', '--format', 'json');
  assert.equal(r.code, 1, r.out + r.err);
  const raw = new Database(db, { readonly: true });
  const stored = raw.prepare(`SELECT COUNT(*) FROM results WHERE run_id = (SELECT id FROM runs WHERE name = 'half')`).pluck().get();
  const planned = raw.prepare(`SELECT planned FROM runs WHERE name = 'half'`).pluck().get();
  raw.close();
  assert.deepEqual(JSON.parse(r.out).gate_gaps, [`baseline run "half" is interrupted (${stored}/${planned} answers)`]);
  assert.equal((await cli('compare', 'half', 'a', '--db', db)).code, 0, 'without a gate, compare only reports');
});

test('a gate against a run lacking a language/style or some queries of A fails closed', async () => {
  const r1 = await cli('compare', 'a', 'no-ja-entity', '--db', db, '--fail-on-drop', '100', '--format', 'json');
  assert.equal(r1.code, 1);
  assert.deepEqual(JSON.parse(r1.out).gate_gaps, ['run "no-ja-entity" lacks ja/entity that "a" has']);
  const r2 = await cli('compare', 'a', 'fewer', '--db', db, '--fail-on-drop', '100');
  assert.equal(r2.code, 1);
  assert.match(r2.out, /FAIL: run "fewer" answers \d+ of the \d+ zh\/entity queries of "a"/);
});

test('compare --format xml is refused', async () => {
  const r = await cli('compare', 'a', 'same', '--db', db, '--format', 'xml');
  assert.equal(r.code, 2);
  assert.match(r.err, /--format must be table or json, got "xml"/);
});
