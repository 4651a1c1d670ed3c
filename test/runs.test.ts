// tier: full (needs Chromium)
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, type CliResult, SAMPLE_DATA, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';

const ck1 = tinyCheckpoint(1, false, SAMPLE_DATA);
const ck2 = tinyCheckpoint(2, false, SAMPLE_DATA);
const db = join(tempDir(), 'results.sqlite');
const run = (...a: string[]) => cli('run', '--data', SAMPLE_DATA, '--db', db, ...a);

// Two complete runs that the tests read and compare; a test that needs another run makes its own.
let seed1: CliResult;
before(async () => {
  seed1 = await run('--model', ck1, '--name', 'seed1');
  assert.equal((await run('--model', ck2, '--name', 'seed2')).code, 0);
});

test('a run stores every answer; the report equals a recomputation from the stored rows', async () => {
  const r = seed1;
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /RANDOM weights/);
  assert.match(r.out, /run "seed1" complete: 2392\/2392 answers/);
  const rep = await cli('report', '--run', 'seed1', '--db', db, '--format', 'json');
  assert.equal(rep.code, 0, rep.err);
  const json = JSON.parse(rep.out);
  assert.equal(json.run.name, 'seed1');
  // Independent recomputation with SQL over the raw rows.
  const raw = new Database(db, { readonly: true });
  const sql = raw
    .prepare(
      `SELECT language, style, COUNT(*) AS n, SUM(covered AND gold_rank <= 1) AS c1, SUM(covered AND gold_rank <= 10) AS c10, AVG(covered) AS cov FROM results WHERE run_id = (SELECT id FROM runs WHERE name = 'seed1') GROUP BY language, style`,
    )
    .all() as { language: string; style: string; n: number; c1: number; c10: number; cov: number }[];
  raw.close();
  assert.equal(json.languages.length, sql.length);
  for (const s of sql) {
    const m = json.languages.find((x: any) => x.language === s.language && x.style === s.style);
    assert.equal(m.queries, s.n);
    assert.ok(Math.abs(m.p_at_1 - s.c1 / s.n) < 1e-12);
    assert.ok(Math.abs(m.p_at_10 - s.c10 / s.n) < 1e-12);
    assert.ok(Math.abs(m.entity_coverage - s.cov) < 1e-12);
  }
  for (const f of ['csv', 'table']) assert.equal((await cli('report', '--run', 'seed1', '--db', db, '--format', f)).code, 0);
});

test('results are never overwritten; resuming a complete run does nothing', async () => {
  const again = await run('--model', ck1, '--name', 'seed1');
  assert.equal(again.code, 2);
  assert.match(again.err, /a run named "seed1" exists; results are never overwritten/);
  const resumed = await run('--model', ck1, '--resume', 'seed1');
  assert.equal(resumed.code, 0, resumed.err);
  assert.match(resumed.out, /already complete; nothing to do/);
  const changed = await run('--model', ck2, '--resume', 'seed1');
  assert.equal(changed.code, 2);
  assert.match(changed.err, /cannot resume "seed1": .*checkpoint weights/);
});

test('compare: two seeds give a table and exit 0 under a loose gate', async () => {
  const r = await cli('compare', 'seed1', 'seed2', '--db', db, '--fail-on-drop', '100');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /McNemar p/);
  assert.match(r.out, /ok: no language dropped more than 100 points/);
});

test('compare: an injected regression in one language fails the gate with exit 1', async () => {
  // Copy seed1 and make every ja word answer wrong.
  const raw = new Database(db);
  raw.exec(`INSERT INTO runs (name, status, started_at, finished_at, options, harness_version, checkpoint, dataset, random_weights, planned)
            SELECT 'degraded', status, started_at, finished_at, options, harness_version, checkpoint, dataset, random_weights, planned FROM runs WHERE name = 'seed1'`);
  raw.exec(`INSERT INTO results (run_id, style, language, relation, template, subject, golds, lineids, top, gold_rank, gold_score, candidates, covered, shard)
            SELECT (SELECT id FROM runs WHERE name = 'degraded'), style, language, relation, template, subject, golds, lineids, top,
            CASE WHEN language = 'ja' AND style = 'word' THEN candidates ELSE gold_rank END, gold_score, candidates, covered, shard
            FROM results WHERE run_id = (SELECT id FROM runs WHERE name = 'seed1')`);
  raw.close();
  const r = await cli('compare', 'seed1', 'degraded', '--db', db, '--fail-on-drop', '2');
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /FAIL: ja\/word/);
  assert.doesNotMatch(r.out, /FAIL: .*en\//);
  const json = JSON.parse((await cli('compare', 'seed1', 'degraded', '--db', db, '--fail-on-drop', '2', '--format', 'json')).out);
  assert.deepEqual(
    json.failing.map((d: any) => `${d.language}/${d.style}`),
    ['ja/word'],
  );
});

test('compare refuses runs over different options unless --force, naming the difference', async () => {
  assert.equal((await run('--model', ck1, '--name', 'en-only', '--languages', 'en')).code, 0);
  const r = await cli('compare', 'seed1', 'en-only', '--db', db);
  assert.equal(r.code, 2);
  assert.match(r.err, /differ in languages: \["ar","en","ja","zh"\] vs \["en"\]/);
  assert.equal((await cli('compare', 'seed1', 'en-only', '--db', db, '--force')).code, 0);
});

test('database problems get one clear line: corrupt file, read-only directory, unknown run', async () => {
  const bad = join(tempDir(), 'bad.sqlite');
  writeFileSync(bad, 'this is not a database, just text that is long enough to look like a header........');
  const r1 = await cli('report', '--db', bad);
  assert.equal(r1.code, 2);
  assert.match(r1.err, /bad\.sqlite: not a valid results database/);
  const ro = join(tempDir(), 'ro');
  mkdirSync(ro);
  chmodSync(ro, 0o500);
  const r2 = await run('--model', ck1, '--db', join(ro, 'x.sqlite'), '--limit', '1');
  if (process.getuid?.() !== 0) {
    assert.equal(r2.code, 2);
    assert.match(r2.err, /results directory is not writable/);
  }
  const r3 = await cli('report', '--run', 'nope', '--db', db);
  assert.equal(r3.code, 2);
  assert.match(r3.err, /no run "nope"; recent runs: /);
});

test('the HTML report is one self-contained file with a rendered chart', async () => {
  const out = join(tempDir(), 'report.html');
  const r = await cli('report', '--run', 'seed1', '--db', db, '--format', 'html', '--out', out);
  assert.equal(r.code, 0, r.err);
  const html = (await import('node:fs')).readFileSync(out, 'utf8');
  assert.match(html, /<svg[^>]*class="marks"/);
  const bars = html.match(/<path[^>]*aria-roledescription="bar"/g) ?? html.match(/role-mark[^"]*"[^>]*>/g) ?? [];
  assert.ok(bars.length > 0 || /mark-rect/.test(html), 'chart has bar marks');
  assert.match(html, /random weights/);
  assert.doesNotMatch(html, /<script/);
});

test('the HTML report renders its chart in headless Chromium', {
  skip: !(await import('node:fs')).existsSync('/usr/bin/chromium') && 'Debian chromium is not installed (apt install chromium)',
}, async () => {
  const { chromium } = await import('playwright-core');
  const out = join(tempDir(), 'report.html');
  assert.equal((await cli('report', '--run', 'seed1', '--db', db, '--format', 'html', '--out', out)).code, 0);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`file://${out}`);
    const box = await page.locator('#chart svg').boundingBox();
    assert.ok(box && box.width > 100 && box.height > 100, `chart box ${JSON.stringify(box)}`);
    const bars = await page.locator('#chart svg .mark-rect path').count();
    assert.equal(bars, 8, 'one bar per language and style');
    assert.ok((await page.locator('table').count()) >= 2);
  } finally {
    await browser.close();
  }
});

test('runCommand called without `given` under Slurm: options it passes still count as given, so a resume that changes them is refused', async () => {
  const { runCommand } = await import('../src/cli/commands/runs.js');
  const own = join(tempDir(), 'slurm-resume.sqlite');
  const first = await cli(
    'run',
    '--data',
    SAMPLE_DATA,
    '--db',
    own,
    '--model',
    ck1,
    '--languages',
    'en,ja',
    '--limit',
    '1',
    '--styles',
    'word',
    '--shard',
    '0/2',
    '--name',
    's',
  );
  assert.equal(first.code, 0, first.err);
  const raw = new Database(own);
  raw.exec(`UPDATE runs SET status = 'interrupted'`);
  raw.close();
  const io = { out: () => {}, err: () => {}, tty: false };
  const env = { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '2' };
  const o = { db: own, busyTimeout: 10000, resume: 's', languages: ['en'], styles: ['word'], templates: 'main' as const, fallback: false, limit: 1 };
  await assert.rejects(runCommand(o, io, env), /cannot resume "s": it was run with different inputs \(languages: \["en","ja"\] vs \["en"\]\)/);
});
