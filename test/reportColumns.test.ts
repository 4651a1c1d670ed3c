// tier: full (needs Chromium)
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, SAMPLE_DATA, sampleCopy, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { REPORT_FORMAT_NAMES } from '../src/report/formats.js';
import { TABLE_METRICS } from '../src/report/metrics.js';

// Runs on the bundled sample: "a" and "a2" ask the same questions with different weights; "few" asks fewer
// (--limit 3); "para" asks paraphrases too (--templates all). "a2" and "few" share one label.
const db = join(tempDir(), 'results.sqlite');
const run = (...a: string[]) => cli('run', '--data', SAMPLE_DATA, '--db', db, '--model', tinyCheckpoint(1, false, SAMPLE_DATA), ...a);
for (const args of [
  ['--name', 'a', '--limit', '6'],
  ['--name', 'a2', '--limit', '6', '--styles', 'word', '--label', 'same'],
  ['--name', 'few', '--limit', '3', '--styles', 'word', '--label', 'same'],
  ['--name', 'para', '--limit', '6', '--styles', 'word', '--templates', 'all'],
]) {
  const r = await run(...args);
  assert.equal(r.code, 0, r.err);
}
const report = (...a: string[]) => cli('report', '--db', db, ...a);

test('report --runs says in every format which runs answered different questions, and how', async () => {
  for (const format of REPORT_FORMAT_NAMES) {
    const r = await report('--runs', 'a,few,para', '--format', format);
    assert.equal(r.code, 0, r.err);
    const text = r.out
      .replace(/&quot;/g, '"')
      .replace(/""/g, '"')
      .replace(/\\"/g, '"');
    assert.match(text, /limit: 3 vs 6/, format);
    assert.match(text, /templates: "all" vs "main"/, format);
  }
  const j = JSON.parse((await report('--runs', 'a,few,para', '--format', 'json')).out);
  assert.deepEqual(
    j.differences.map((d: { run: string; reference: string }) => `${d.run}/${d.reference}`),
    ['few/a', 'para/a'],
  );
  // Same questions, other weights and other styles: nothing to say.
  const same = await report('--runs', 'a,a2', '--format', 'markdown');
  assert.doesNotMatch(same.out, /different questions/);
  assert.deepEqual(JSON.parse((await report('--runs', 'a,a2', '--format', 'json')).out).differences, []);
  // Other data under the same options: the fingerprint of each language whose files differ is named.
  const data = sampleCopy();
  const file = join(data, 'en', 'P19.jsonl');
  writeFileSync(file, readFileSync(file, 'utf8').trimEnd().split('\n').slice(1).join('\n') + '\n');
  const r = await cli(
    'run',
    '--data',
    data,
    '--db',
    db,
    '--model',
    tinyCheckpoint(1, false, SAMPLE_DATA),
    '--name',
    'other-data',
    '--limit',
    '6',
    '--styles',
    'word',
  );
  assert.equal(r.code, 0, r.err);
  const other = JSON.parse((await report('--runs', 'a,other-data', '--format', 'json')).out).differences;
  assert.equal(other.length, 1);
  assert.match(other[0].differences.join('; '), /^dataset en: "[0-9a-f]+" vs "[0-9a-f]+"$/);
  const csv = (await report('--runs', 'a,few', '--format', 'csv')).out.trim().split('\n');
  assert.equal(csv[0], 'run,label,style,language,p_at_1,partial,average_over,differences_from_first_run');
  assert.ok(csv.filter((l) => l.startsWith('few,')).every((l) => l.endsWith(',limit: 3 vs 6')));
  assert.ok(csv.filter((l) => l.startsWith('a,')).every((l) => l.endsWith(',')));
});

test('report --runs RUN:STYLE picks and orders columns; an unknown style names the run and its styles', async () => {
  const j = JSON.parse((await report('--runs', 'a2:word,a:entity,a:word', '--format', 'json')).out);
  assert.deepEqual(
    j.table.columns.map((c: { run: string; style: string }) => `${c.run}:${c.style}`),
    ['a2:word', 'a:entity', 'a:word'],
  );
  const one = JSON.parse((await report('--runs', 'a:word', '--format', 'json')).out);
  assert.deepEqual(
    one.table.columns.map((c: { style: string }) => c.style),
    ['word'],
  );
  const md = await report('--runs', 'a:entity', '--format', 'markdown');
  assert.match(md.out, /^\| language \| a entity \|$/m);
  const table = await report('--runs', 'a:entity');
  assert.match(table.out, /│ language │ a entity │|language +a entity/);
  for (const format of REPORT_FORMAT_NAMES) assert.equal((await report('--runs', 'a:word,a2', '--format', format)).code, 0, format);
  const bad = await report('--runs', 'a2:entity');
  assert.equal(bad.code, 2);
  assert.equal(bad.err.trim(), 'error: --runs: run "a2" has no answers under style "entity"; it has word');
  assert.match((await report('--runs', 'a:word,a:word')).err, /names run "a" style "word" twice/);
  assert.match((await report('--runs', 'a:')).err, /"a:" must be RUN or RUN:STYLE/);
});

test('two runs with one label are told apart in every header; LaTeX groups columns by run', async () => {
  const md = await report('--runs', 'a2,few', '--format', 'markdown');
  assert.match(md.out, /^\| language \| same \(a2\) word \| same \(few\) word \|$/m);
  const latex = await report('--runs', 'a2,few', '--format', 'latex');
  assert.match(latex.out, /\\multicolumn\{1\}\{c\}\{same \(a2\)\} & \\multicolumn\{1\}\{c\}\{same \(few\)\}/);
  const html = (await report('--runs', 'a2,few', '--format', 'html')).out;
  assert.match(html, /same \(a2\) · word/);
  assert.match(html, /same \(few\) · word/);
  // Titles, notes and analysis tables too: every place that names a run.
  assert.match(html, /<h1>mLAMA factual knowledge: same \(a2\), same \(few\)<\/h1>/);
  assert.match(html, /<td>same \(a2\)<\/td><td>word<\/td>/);
  // Analyses follow the chosen columns: a:word only, so no row of a's entity style.
  const picked = (await report('--runs', 'a:word,few', '--format', 'html')).out;
  assert.doesNotMatch(picked, /<td>a<\/td><td>entity<\/td>/);
  assert.match(picked, /<td>a<\/td><td>word<\/td>/);
});

test('text formats keep their marks: a newline in a label, the random-weights note in LaTeX, (n/L) in CSV', async () => {
  const raw = new Database(db);
  raw.prepare(`UPDATE runs SET label = ? WHERE name = 'a2'`).run('two\nlines');
  raw.close();
  try {
    const md = (await report('--runs', 'a2,few', '--format', 'markdown')).out;
    assert.match(md, /^\| language \| two<br>lines word \| same word \|$/m);
    assert.ok(md.split('\n').every((l) => !l.startsWith('lines')));
    const latex = (await report('--runs', 'a2,few', '--format', 'latex')).out;
    assert.match(latex, /^% Runs with RANDOM weights .*: two lines, same\.$/m);
    assert.ok(
      latex.split('\n').every((l) => l === '' || /^(\\|%| &|language|[a-z]+ &|average &)/.test(l)),
      latex,
    );
  } finally {
    const back = new Database(db);
    back.prepare(`UPDATE runs SET label = 'same' WHERE name = 'a2'`).run();
    back.close();
  }
  // "a" answered ar, en, ja, zh; a run that answered only en makes the table's other columns cover 1 of 4.
  const r = await run('--name', 'en-only', '--limit', '6', '--styles', 'word', '--languages', 'en');
  assert.equal(r.code, 0, r.err);
  const csv = (await report('--runs', 'a:word,en-only', '--format', 'csv')).out.trim().split('\n');
  assert.match(csv.find((l) => l.startsWith('en-only,') && l.includes(',average,'))!, /,average,[\d.]+,false,1\/4,/);
  assert.match(csv.find((l) => l.startsWith('a,') && l.includes(',average,'))!, /,average,[\d.]+,false,4\/4,/);
});

test('report words a killed run as runs does: running (holder gone)', async () => {
  const raw = new Database(db);
  // A pid that no process holds on this host: the run's holder is gone.
  raw.prepare(`UPDATE runs SET status = 'running', lease_pid = ?, lease_host = ? WHERE name = 'few'`).run(2 ** 22 + 12345, hostname());
  raw.close();
  const runs = await cli('runs', '--db', db);
  assert.match(runs.out, /few.*running \(holder gone\)/);
  const r = await report('--run', 'few');
  assert.match(r.out, /^run few \(#\d+, running \(holder gone\)\)/m);
  assert.match(r.err, /run "few" is running \(holder gone\)/);
  const j = JSON.parse((await report('--run', 'few', '--format', 'json')).out);
  assert.equal(j.run.status, 'running (holder gone)');
});

test('HTML: legend entries tell run and style apart, bars follow the legend, checked in Chromium at 1440 px', {
  skip: !existsSync('/usr/bin/chromium') && 'Debian chromium is not installed (make browser)',
}, async () => {
  const { chromium } = await import('playwright-core');
  const long = 'XLM-R base, exported from the hub, evaluated on mLAMA 1.1';
  const raw = new Database(db);
  raw.prepare(`UPDATE runs SET label = ? WHERE name = 'a'`).run(long);
  raw.close();
  const out = join(tempDir(), 'report.html');
  try {
    assert.equal((await report('--runs', 'a2,a:entity,a:word', '--format', 'html', '--out', out)).code, 0);
  } finally {
    const back = new Database(db);
    back.prepare(`UPDATE runs SET label = NULL WHERE name = 'a'`).run();
    back.close();
  }
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`file://${out}`);
    const legend = await page.locator('#chart svg .role-legend-label text').allTextContents();
    assert.deepEqual(legend, ['same · word', 'XLM-R base, export…ated on mLAMA 1.1 · entity', 'XLM-R base, export…ated on mLAMA 1.1 · word']);
    const swatches = await page.locator('#chart svg .role-legend-symbol path').evaluateAll((ps) => ps.map((p) => p.getAttribute('fill')));
    // The first language's bars, left to right, have the legend's colours in the legend's order.
    const bars = await page
      .locator('#chart svg .mark-rect path')
      .evaluateAll((ps) => ps.map((p) => ({ x: p.getBoundingClientRect().x, fill: p.getAttribute('fill') })));
    const first = bars.sort((p, q) => p.x - q.x).slice(0, legend.length);
    assert.deepEqual(
      first.map((b) => b.fill),
      swatches,
    );
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 1440, 'nothing wider than a desktop window');
  } finally {
    await browser.close();
  }
});

test('report --metric takes any averageable metric of the metric table into the multi-run table and the HTML charts', async () => {
  const one = JSON.parse((await report('--run', 'a', '--format', 'json')).out);
  const j = JSON.parse((await report('--runs', 'a,a2', '--metric', 'mrr', '--format', 'json')).out);
  assert.equal(j.table.metric, 'mrr');
  const ja = j.table.languages.indexOf('ja');
  const col = j.table.columns.findIndex((c: { run: string; style: string }) => c.run === 'a' && c.style === 'entity');
  assert.equal(j.table.values[ja][col], one.languages.find((m: { language: string; style: string }) => m.language === 'ja' && m.style === 'entity').mrr);
  const md = (await report('--runs', 'a,a2', '--metric', 'p_at_10', '--format', 'markdown')).out;
  assert.match(md, /^P@10 \(%\) over unique queries/m);
  assert.match((await report('--runs', 'a,a2', '--metric', 'p_at_10', '--format', 'csv')).out, /^run,label,style,language,p_at_10,/);
  assert.match((await report('--runs', 'a,a2', '--metric', 'p_at_10', '--format', 'latex')).out, /^% P@10 \(%\) per language/m);
  // Coverage is an entity head's: word columns have no value there, not 0.
  const cov = JSON.parse((await report('--runs', 'a,a2', '--metric', 'entity_coverage', '--format', 'json')).out);
  assert.deepEqual(
    cov.table.columns.map((c: { style: string }, k: number) => (cov.table.average[k] === null ? `${c.style}:-` : c.style)),
    ['word:-', 'entity', 'word:-'],
  );
  const html = (await report('--runs', 'a,a2', '--metric', 'mrr', '--format', 'html')).out;
  assert.match(html, /<h2 id="overview">MRR per language<\/h2>/);
  assert.match(html, /MRR \(%\)/);
  const bad = await report('--runs', 'a,a2', '--metric', 'ties');
  assert.equal(bad.code, 2);
  assert.equal(bad.err.trim(), `error: --metric must be one of ${TABLE_METRICS.map((d) => d.key).join(', ')}, got "ties"`);
  for (const k of ['p_at_1', 'p_at_10', 'macro_p_at_1', 'mrr', 'entity_coverage', 'p_at_1_covered'])
    assert.ok(
      TABLE_METRICS.some((d) => d.key === k),
      k,
    );
});

test('every --format of report, answers, known-answer and runs comes from one map of formats', async () => {
  const { FORMATS } = await import('../src/report/formatOption.js');
  for (const [command, names] of [
    ['report', REPORT_FORMAT_NAMES],
    ['answers', ['jsonl', 'csv']],
    ['known-answer', ['table', 'json', 'html']],
    ['runs', ['table', 'json']],
  ] as const) {
    const help = (await cli(command, '--help')).out.replace(/\s+/g, ' ');
    for (const n of names) {
      assert.ok(Object.hasOwn(FORMATS, n), n);
      assert.match(help, new RegExp(`${n} \\(`), `${command} ${n}`);
    }
    const bad = await cli(command, '--format', 'docx', '--run', 'a', '--facts', 'f', '--data', 'd', '--db', db);
    assert.equal(bad.code, 2, command);
    assert.equal(bad.err.trim(), `error: --format must be ${names.slice(0, -1).join(', ')} or ${names.at(-1)}, got "docx"`, command);
  }
});

test('answers whose subject has no Wikidata id, left out of the cross-lingual analysis, are counted in HTML and on stderr', async () => {
  const copy = join(tempDir(), 'ids.sqlite');
  cpSync(db, copy);
  const raw = new Database(copy);
  const n = raw.prepare(`UPDATE results SET sub_uri = NULL WHERE language = 'en' AND run_id = (SELECT id FROM runs WHERE name = 'a2')`).run().changes;
  raw.close();
  assert.ok(n > 0);
  const r = await cli('report', '--db', copy, '--run', 'a2', '--format', 'html');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`Answers whose subject has no Wikidata id are left out: same: ${n}\\.`));
  assert.match(r.err, new RegExp(`note: run "a2": cross-lingual analysis left out ${n} answers whose subject has no Wikidata id`));
});
