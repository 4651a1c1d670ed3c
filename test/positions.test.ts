import assert from 'node:assert/strict';
import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, SAMPLE_DATA, sampleCopy, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { storedRun } from './support/rows.js';

// max_position_embeddings is read, checked, and a prompt longer than the model's positions is handled by a rule:
// not scored, stored as unranked (wrong at every k), and counted as "too long" by the report.

const ck = tinyCheckpoint(1, false, SAMPLE_DATA);

function withConfig(value: unknown): string {
  const d = join(tempDir(), 'ck');
  cpSync(ck, d, { recursive: true });
  const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
  writeFileSync(join(d, 'config.json'), JSON.stringify({ ...c, max_position_embeddings: value }));
  return d;
}

test('max_position_embeddings that makes no sense for the model is refused: -5, 1, 2.5, and 8 against a 130-row table', async () => {
  for (const [v, err] of [
    [-5, /"max_position_embeddings" is -5: it must be an integer above pad_token_id \+ 1/],
    [2, /"max_position_embeddings" is 2: it must be an integer above/],
    [2.5, /"max_position_embeddings" is 2\.5: it must be an integer/],
    [8, /"max_position_embeddings" is 8 but the graph's word position table .* has 130 rows/],
  ] as [number, RegExp][]) {
    const r = await cli('run', '--data', SAMPLE_DATA, '--model', withConfig(v), '--languages', 'en', '--limit', '1', '--db', join(tempDir(), 'p.sqlite'));
    assert.equal(r.code, 2, `${v}: ${r.err}`);
    assert.match(r.err, err);
    assert.equal(r.err.trim().split('\n').length, 1);
  }
});

test('a prompt longer than the positions is stored unranked and counted as too long; the run completes and resumes', async () => {
  const d = sampleCopy();
  const long = Array.from({ length: 200 }, (_, i) => `Name${i}`).join(' ');
  appendFileSync(
    join(d, 'en', 'P19.jsonl'),
    JSON.stringify({ sub_uri: 'Q990001', obj_uri: 'Q90', sub_label: long, obj_label: 'Paris', lineid: 990001 }) + '\n',
  );
  const db = join(tempDir(), 'long.sqlite');
  const args = ['--data', d, '--model', ck, '--languages', 'en', '--relations', 'P19', '--db', db];
  const r = await cli('run', ...args, '--name', 'long');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /run "long" complete/);
  assert.match(r.out, /note: en\/entity 1, en\/word 1 queries were longer than the model's positions: not scored, counted wrong/);
  const { rows } = storedRun(db, 'long');
  const unranked = rows.filter((x) => x.subject === long);
  assert.equal(unranked.length, 2);
  for (const u of unranked) {
    assert.deepEqual(u.top, []);
    assert.ok(u.gold_rank > u.candidates);
  }
  const json = JSON.parse((await cli('report', '--run', 'long', '--db', db, '--format', 'json')).out);
  assert.deepEqual(
    json.languages.map((m: any) => m.too_long),
    [1, 1],
  );
  assert.match((await cli('report', '--run', 'long', '--db', db, '--format', 'csv')).out, /,too_long/);
  // Resuming a run that stopped before the long query reaches it, scores the rest, and completes.
  const raw = new Database(db);
  raw.exec(`INSERT INTO runs (name, status, started_at, finished_at, options, harness_version, checkpoint, dataset, random_weights, planned)
            SELECT 'cut', 'interrupted', started_at, NULL, options, harness_version, checkpoint, dataset, random_weights, planned FROM runs WHERE name = 'long'`);
  raw.exec(`INSERT INTO results (run_id, style, language, relation, template, subject, golds, lineids, top, gold_rank, gold_score, candidates, covered, shard, sub_uri, gold_uris, tie, template_main)
            SELECT (SELECT id FROM runs WHERE name = 'cut'), style, language, relation, template, subject, golds, lineids, top, gold_rank, gold_score, candidates, covered, shard, sub_uri, gold_uris, tie, template_main
            FROM results WHERE run_id = (SELECT id FROM runs WHERE name = 'long') AND rowid % 3 = 0 AND length(subject) < 500`);
  raw.close();
  const resumed = await cli('run', ...args, '--resume', 'cut');
  assert.equal(resumed.code, 0, resumed.err);
  assert.match(resumed.out, /run "cut" complete/);
  assert.equal(storedRun(db, 'cut').rows.filter((x) => x.top.length === 0).length, 2);
});
