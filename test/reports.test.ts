// tier: full (needs ../shared and Chromium)
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, SAMPLE_DATA, SHARED_DATA, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { storedRun } from './support/rows.js';
import { REPORT_FORMATS } from '../src/report/formats.js';

const db = join(tempDir(), 'results.sqlite');
const sample = (...a: string[]) => cli('run', '--data', SAMPLE_DATA, '--db', db, '--limit', '6', ...a);
const r1 = await sample('--model', tinyCheckpoint(1, false, SAMPLE_DATA), '--name', 'a');
const r2 = await sample('--model', tinyCheckpoint(2, false, SAMPLE_DATA), '--name', 'b', '--styles', 'word');
assert.equal(r1.code + r2.code, 0, r1.err + r2.err);
const json = async (...a: string[]) => {
  const r = await cli(...a, '--db', db);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out);
};

test('report --runs: languages as rows, run x style columns, averages recomputed from each run alone', async () => {
  const multi = await json('report', '--runs', 'a,b', '--format', 'json');
  assert.deepEqual(
    multi.table.columns.map((c: any) => `${c.run}/${c.style}`),
    ['a/word', 'a/entity', 'b/word'],
  );
  assert.deepEqual(multi.table.languages, ['ar', 'en', 'ja', 'zh']);
  for (const [j, c] of multi.table.columns.entries()) {
    const one = await json('report', '--run', c.run, '--format', 'json');
    const ms = one.languages.filter((m: any) => m.style === c.style);
    multi.table.languages.forEach((l: string, i: number) => assert.equal(multi.table.p_at_1[i][j], ms.find((m: any) => m.language === l).p_at_1));
    assert.ok(Math.abs(multi.table.average[j] - ms.reduce((s: number, m: any) => s + m.p_at_1, 0) / ms.length) < 1e-12);
  }
  const latex = await cli('report', '--runs', 'a,b', '--db', db, '--format', 'latex');
  assert.match(latex.out, /\\multicolumn\{2\}\{c\}\{a\} & \\multicolumn\{1\}\{c\}\{b\}/);
  assert.match(latex.out, /^average & /m);
  const md = await cli('report', '--runs', 'a,b', '--db', db, '--format', 'markdown');
  assert.match(md.out, /^\| language \| a word \| a entity \| b word \|$/m);
  assert.equal(md.out.split('\n').filter((l) => l.startsWith('| ')).length, 1 + 1 + 4 + 1);
  const csv = await cli('report', '--runs', 'a,b', '--db', db, '--format', 'csv');
  assert.equal(csv.out.trim().split('\n').length, 1 + 3 * 5);
  for (const f of ['table', 'html'])
    assert.equal((await cli('report', '--runs', 'a,b', '--db', db, '--format', f, '--out', join(tempDir(), `r.${f}`))).code, 0);
});

test('report formats come from one map: the option check and the help list every key', async () => {
  const bad = await cli('report', '--db', db, '--format', 'docx');
  assert.equal(bad.code, 2);
  const names = Object.keys(REPORT_FORMATS);
  assert.equal(bad.err.trim(), `error: --format must be ${names.slice(0, -1).join(', ')} or ${names.at(-1)}, got "docx"`);
  const help = await cli('report', '--help');
  for (const k of Object.keys(REPORT_FORMATS)) assert.match(help.out.replace(/\s+/g, ' '), new RegExp(`${k} \\(`));
  assert.equal((await cli('report', '--db', db, '--run', 'a', '--runs', 'a,b')).code, 2);
  assert.match((await cli('report', '--db', db, '--runs', 'a,a')).err, /names run "a" twice/);
});

test('answers: one record per stored answer with Wikidata ids and the top 10; csv, language filter, stats', async () => {
  const { rows } = storedRun(db, 'a');
  const r = await cli('answers', '--run', 'a', '--db', db, '--stats');
  assert.equal(r.code, 0, r.err);
  const recs = r.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(recs.length, rows.length);
  assert.match(r.err, new RegExp(`^answers: ${rows.length} records from run "a"; peak RSS \\d+ MiB$`, 'm'));
  const byKey = new Map(rows.map((x) => [JSON.stringify([x.style, x.language, x.relation, x.template, x.subject]), x]));
  for (const a of recs) {
    const s = byKey.get(JSON.stringify([a.style, a.language, a.relation, a.template, a.subject]))!;
    assert.equal(a.gold_rank, s.gold_rank);
    assert.match(a.sub_uri, /^Q\d+$/);
    assert.ok(a.golds.length >= 1 && a.golds.every((g: any) => /^Q\d+$/.test(g.obj_uri)));
    assert.equal(a.top.length, Math.min(10, a.candidates));
    assert.equal(typeof a.tie, 'boolean');
    // A gold at rank 1 is the top candidate, by Wikidata id too.
    if (a.gold_rank === 1) assert.ok(a.golds.some((g: any) => g.obj_uri === a.top[0].obj_uri));
  }
  const csv = await cli('answers', '--run', 'a', '--db', db, '--format', 'csv', '--languages', 'ja,zh');
  const lines = csv.out.trim().split('\n');
  assert.match(lines[0], /^language,relation,template,style,subject,sub_uri,golds,gold_uris,gold_rank,tie,covered,candidates,top1_label,top1_uri,top1_score,/);
  assert.equal(lines.length - 1, rows.filter((x) => x.language === 'ja' || x.language === 'zh').length);
  const missing = await cli('answers', '--run', 'a', '--db', db, '--languages', 'fi');
  assert.equal(missing.code, 2);
  assert.match(missing.err, /run "a" has no answers in fi; it has ar, en, ja, zh/);
});

test('report --format json carries paraphrase, cross_lingual and bias sections', async () => {
  const j = await json('report', '--run', 'a', '--format', 'json');
  for (const k of ['paraphrase', 'cross_lingual', 'bias']) assert.ok(j[k], k);
  const entity = j.cross_lingual.styles.find((s: any) => s.style === 'entity');
  assert.deepEqual(entity.languages, ['ar', 'en', 'ja', 'zh']);
  assert.equal(entity.pairs.length, 6);
  assert.ok(entity.pairs.every((p: any) => p.facts > 0 && p.rankc >= 0 && p.rankc <= 1));
  assert.equal(j.bias.relations.length, 4 * 2 * 5);
  assert.equal(j.relation_names.P19 ?? 'built-in', 'built-in');
  // A dataset's relations.jsonl names the relations where it has them.
  const data = tempDir();
  writeFileSync(join(data, 'relations.jsonl'), '{"relation": "P19", "label": "born in (from the data)"}\n');
  const html = join(tempDir(), 'r.html');
  assert.equal((await cli('report', '--run', 'a', '--db', db, '--format', 'html', '--data', data, '--out', html)).code, 0);
  assert.match(readFileSync(html, 'utf8'), /<td>P19<\/td><td>born in \(from the data\)<\/td>/);
  assert.match(readFileSync(html, 'utf8'), /<td>P36<\/td><td>capital<\/td>/);
  writeFileSync(join(data, 'relations.jsonl'), '{"relation": "P19"}\n');
  const bad = await cli('report', '--run', 'a', '--db', db, '--format', 'json', '--data', data);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /relations\.jsonl:1: .*"label"/);
});

test('answers stored before schema 2 migrate intact; analyses that need Wikidata ids say so', async () => {
  const old = join(tempDir(), 'v1.sqlite');
  const d = new Database(old);
  // The results schema as version 1 wrote it (in WAL mode, as every harness database is).
  d.pragma('journal_mode = WAL');
  d.exec(`CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted', 'failed')), started_at TEXT NOT NULL, finished_at TEXT, options TEXT NOT NULL, harness_version TEXT NOT NULL, checkpoint TEXT NOT NULL, dataset TEXT NOT NULL, random_weights INTEGER NOT NULL, planned INTEGER NOT NULL);
    CREATE TABLE results (run_id INTEGER NOT NULL REFERENCES runs(id), style TEXT NOT NULL, language TEXT NOT NULL, relation TEXT NOT NULL, template TEXT NOT NULL, subject TEXT NOT NULL, golds TEXT NOT NULL, lineids TEXT NOT NULL, top TEXT NOT NULL, gold_rank INTEGER NOT NULL, gold_score REAL NOT NULL, candidates INTEGER NOT NULL, covered INTEGER NOT NULL, shard TEXT, PRIMARY KEY (run_id, style, language, relation, template, subject));
    INSERT INTO runs VALUES (1, 'old', 'complete', '2026-01-01', '2026-01-01', '{"styles":["word"]}', '0.1.0', '{}', '{}', 1, 2);
    INSERT INTO results VALUES (1, 'word', 'en', 'P19', '[X] was born in [Y] .', 'Ada', '["London"]', '[0]', '[{"label":"London","score":-1}]', 1, -1, 5, 1, NULL);
    INSERT INTO results VALUES (1, 'word', 'ja', 'P19', '[X]は[Y]で生まれた', 'エイダ', '["ロンドン"]', '[0]', '[{"label":"パリ","score":-1}]', 2, -2, 5, 1, NULL);
    PRAGMA user_version = 1;`);
  d.close();
  const ro = await cli('report', '--run', 'old', '--db', old, '--format', 'json');
  assert.equal(ro.code, 0, ro.err);
  assert.match(ro.err, /^note: run "old": cross-lingual analysis skipped: the answers carry no Wikidata ids/m);
  assert.equal(JSON.parse(ro.out).languages.length, 2);
  // A writable open migrates; nothing stored is lost or changed.
  const ck = tinyCheckpoint(1, false, SAMPLE_DATA);
  const rn = await cli(
    'run',
    '--data',
    SAMPLE_DATA,
    '--db',
    old,
    '--model',
    ck,
    '--languages',
    'en',
    '--relations',
    'P19',
    '--limit',
    '2',
    '--styles',
    'word',
    '--name',
    'new',
  );
  assert.equal(rn.code, 0, rn.err);
  const after = storedRun(old, 'old').rows;
  assert.deepEqual(
    after.map((r) => [r.language, r.subject, r.top[0].label, r.gold_rank, r.sub_uri, r.tie]),
    [
      ['en', 'Ada', 'London', 1, null, null],
      ['ja', 'エイダ', 'パリ', 2, null, null],
    ],
  );
  const exp = await cli('answers', '--run', 'old', '--db', old);
  assert.deepEqual(JSON.parse(exp.out.split('\n')[0]).golds, [{ label: 'London', obj_uri: null }]);
  assert.ok(storedRun(old, 'new').rows.every((r) => r.sub_uri !== null && r.template_main === true));
});

test('paraphrase consistency on the shared data equals a recomputation from the exported answers', {
  skip: !existsSync(SHARED_DATA) && 'shared data missing',
}, async () => {
  const pdb = join(tempDir(), 'p.sqlite');
  const r = await cli(
    'run',
    '--data',
    SHARED_DATA,
    '--db',
    pdb,
    '--model',
    tinyCheckpoint(1),
    '--languages',
    'en,ja',
    '--relations',
    'P103,P37',
    '--limit',
    '4',
    '--templates',
    'all',
    '--styles',
    'word',
    '--name',
    'p',
  );
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse((await cli('report', '--run', 'p', '--db', pdb, '--format', 'json')).out);
  const recs = (await cli('answers', '--run', 'p', '--db', pdb)).out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(j.paraphrase.relations.length, 4);
  for (const rel of j.paraphrase.relations) {
    const mine = recs.filter((a) => a.language === rel.language && a.relation === rel.relation);
    const subjects = new Map<string, string[]>();
    for (const a of mine) subjects.set(a.subject, [...(subjects.get(a.subject) ?? []), a.top[0].obj_uri ?? a.top[0].label]);
    let pairs = 0;
    let same = 0;
    for (const t of subjects.values()) for (let i = 0; i < t.length; i++) for (let k = i + 1; k < t.length; k++) pairs++, t[i] === t[k] && same++;
    assert.equal(rel.pairs, pairs);
    assert.ok(Math.abs(rel.consistency - same / pairs) < 1e-12);
    assert.ok(rel.templates.length >= 2);
  }
  // Bias and cross-lingual use the main template only: one answer per subject.
  assert.ok(j.bias.relations.every((b: any) => b.queries === 4));
  assert.ok(j.cross_lingual.styles[0].pairs[0].facts <= 8);
});

test('the HTML report shows its charts and folded tables in headless Chromium', {
  skip: !existsSync('/usr/bin/chromium') && 'Debian chromium is not installed (make browser)',
}, async () => {
  const { chromium } = await import('playwright-core');
  const out = join(tempDir(), 'report.html');
  assert.equal((await cli('report', '--runs', 'a,b', '--db', db, '--format', 'html', '--out', out)).code, 0);
  const html = readFileSync(out, 'utf8');
  assert.doesNotMatch(html, /<script|<link|src="http/);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`file://${out}`);
    for (const id of ['chart', 'heatmap', 'diff', 'cross-matrix']) {
      const box = await page.locator(`#${id} svg`).first().boundingBox();
      assert.ok(box && box.width > 100 && box.height > 100, `${id}: ${JSON.stringify(box)}`);
    }
    // 4 languages x 3 run-style columns.
    assert.equal(await page.locator('#chart svg .mark-rect path').count(), 12);
    // One heatmap cell per (language, relation) of each column: 4 x 5 x 3.
    assert.equal(await page.locator('#heatmap svg .mark-rect.role-mark path').count(), 60);
    assert.equal(await page.locator('details.lang').count(), 4);
    assert.ok(
      await page
        .locator('details.lang')
        .first()
        .evaluate((e) => !(e as HTMLDetailsElement).open),
    );
    assert.match(await page.locator('details.lang').first().innerText(), /ar/);
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 1440, 'nothing wider than a desktop window');
  } finally {
    await browser.close();
  }
});

test('answers --out: a plain file is replaced whole; through a link the target is written and the link kept', async () => {
  const dir = tempDir();
  const plain = join(dir, 'a.jsonl');
  writeFileSync(plain, 'old\n');
  assert.equal((await cli('answers', '--run', 'a', '--db', db, '--out', plain)).code, 0);
  const lines = readFileSync(plain, 'utf8').trim().split('\n');
  assert.ok(lines.length > 1 && lines.every((l) => JSON.parse(l).run === undefined && JSON.parse(l).subject));
  const target = join(dir, 'target.jsonl');
  writeFileSync(target, '');
  const link = join(dir, 'link.jsonl');
  symlinkSync(target, link);
  assert.equal((await cli('answers', '--run', 'a', '--db', db, '--out', link)).code, 0);
  assert.ok(lstatSync(link).isSymbolicLink(), 'the link is still a link');
  assert.equal(readFileSync(target, 'utf8'), readFileSync(plain, 'utf8'));
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.part')),
    [],
  );
});
