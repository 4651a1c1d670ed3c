import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, SAMPLE_DATA, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';

const ROOT = join(import.meta.dirname, '..');
const db = join(tempDir(), 'report.sqlite');

// A complete run, and an interrupted copy holding all of en, part of ja and nothing of zh; the tests only read them.
before(async () => {
  const r = await cli(
    'run',
    '--data',
    SAMPLE_DATA,
    '--model',
    tinyCheckpoint(1, false, SAMPLE_DATA),
    '--languages',
    'en,ja,zh',
    '--limit',
    '3',
    '--db',
    db,
    '--name',
    'full',
  );
  assert.equal(r.code, 0, r.err);
  const raw = new Database(db);
  raw.exec(`INSERT INTO runs (name, status, started_at, finished_at, options, harness_version, checkpoint, dataset, random_weights, planned)
            SELECT 'cut', 'interrupted', started_at, finished_at, options, harness_version, checkpoint, dataset, random_weights, planned FROM runs WHERE name = 'full'`);
  raw.exec(`INSERT INTO results (run_id, style, language, relation, template, subject, golds, lineids, top, gold_rank, gold_score, candidates, covered, shard, sub_uri, gold_uris, tie, template_main)
            SELECT (SELECT id FROM runs WHERE name = 'cut'), style, language, relation, template, subject, golds, lineids, top, gold_rank, gold_score, candidates, covered, shard, sub_uri, gold_uris, tie, template_main
            FROM results WHERE run_id = (SELECT id FROM runs WHERE name = 'full') AND (language = 'en' OR (language = 'ja' AND NOT (style = 'entity' AND relation = 'P19')))`);
  raw.close();
});

test('CSV reports carry the run and mark partial languages', async () => {
  const csv = (await cli('report', '--run', 'cut', '--db', db, '--format', 'csv')).out.trim().split('\n');
  assert.match(csv[0], /^run,language,style,partial,queries,/);
  assert.ok(csv.slice(1).every((l) => l.startsWith('cut,')));
  assert.ok(csv.some((l) => l.startsWith('cut,ja,entity,true,')));
  assert.ok(csv.some((l) => l.startsWith('cut,en,word,false,')));
  assert.ok(csv.some((l) => l.startsWith('cut,average,word,true,')));
  const full = (await cli('report', '--run', 'full', '--db', db, '--format', 'csv')).out.trim().split('\n');
  assert.ok(full.slice(1).every((l) => /^full,[a-z]+,[a-z-]+,false,/.test(l)));
});

test('tables mark partial languages and the average row, and say what is missing', async () => {
  const r = await cli('report', '--run', 'cut', '--db', db);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /│ ja \(partial\)/);
  assert.match(r.out, /│ en {2}/);
  assert.match(r.out, /average \(languages; partial\)/);
  assert.match(r.out, /note: the run holds part of ja \(\d+\/\d+ answers\), zh \(0\/\d+ answers\)/);
  const json = JSON.parse((await cli('report', '--run', 'cut', '--db', db, '--format', 'json')).out);
  assert.deepEqual(
    json.partial.map((p: any) => p.language),
    ['ja', 'zh'],
  );
  const full = await cli('report', '--run', 'full', '--db', db);
  assert.doesNotMatch(full.out, /partial/);
});

test('one "queries" count: a language shows its unique questions, the same figure the answers are counted from', async () => {
  const json = JSON.parse((await cli('report', '--run', 'full', '--db', db, '--format', 'json')).out);
  const table = (await cli('report', '--run', 'cut', '--db', db)).out;
  const ja = json.languages.filter((m: any) => m.language === 'ja');
  // In the cut run ja's entity answers are fewer; the table still shows ja's questions (the word style's count).
  assert.match(table, new RegExp(`ja \\(partial\\)\\s*│\\s*${ja[0].queries} │`));
  const run = await cli('runs', '--db', db);
  assert.match(run.out, /full/);
  const total = json.languages.reduce((a: number, m: any) => a + m.queries, 0);
  assert.equal(
    total,
    json.averages.reduce((a: number, m: any) => a + m.queries, 0),
  );
});

test('make demo and make demo-random write to the default results file under new run names, deleting nothing', () => {
  const dry = (target: string) => execFileSync('make', ['-n', '--no-print-directory', target], { cwd: ROOT, encoding: 'utf8' });
  const runs = (text: string) => text.split('\n').filter((l) => / run --model /.test(l));
  const known = dry('demo');
  assert.equal(runs(known).length, 1);
  assert.match(runs(known)[0], /--name demo-\d{8}-\d{6}-known .*--db results\/mlama\.sqlite/);
  const random = dry('demo-random');
  assert.equal(runs(random).length, 2);
  for (const l of runs(random)) assert.match(l, /--name demo-\d{8}-\d{6}-seed\d --db results\/mlama\.sqlite/);
  for (const text of [known, random]) assert.doesNotMatch(text, /rm -f[^\n]*sqlite/);
  const src = readFileSync(join(ROOT, 'src/run/config.ts'), 'utf8');
  assert.match(src, /const DEFAULT_DB = 'results\/mlama\.sqlite'/);
});

test('the README states the parity bound the tests assert', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const model = readFileSync(join(ROOT, 'test/model.test.ts'), 'utf8');
  const exporter = readFileSync(join(ROOT, 'test/exporter.test.ts'), 'utf8');
  assert.match(model, /assert\.ok\(maxDiff < 1e-4/);
  assert.match(exporter, /assert\.ok\(maxDiff < 1e-4/);
  assert.doesNotMatch(readme, /1e-6/);
  assert.match(readme, /TypeScript forward pass[\s\S]{0,200}below 1e-4/);
  assert.match(readme, /equal torch's within 1e-4/);
});
