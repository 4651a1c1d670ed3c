import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, SAMPLE_DATA, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { FORMATS } from '../src/report/formatOption.js';

// compare --fail-on-drop is a gate: it parses its threshold strictly, fails closed on runs it cannot judge, and
// calls a cell too small to show the drop inconclusive (exit 4), never ok.

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

/** A copy of run `from` named `to` with every answer right (`right`) or wrong, only the rows `keep` selects. */
function verdictCopy(from: string, to: string, right: boolean, keep: string): void {
  copyRun(from, to, 'complete', keep);
  const raw = new Database(db);
  raw.prepare(`UPDATE results SET gold_rank = ${right ? 1 : 'candidates'}, tie = 0 WHERE run_id = (SELECT id FROM runs WHERE name = ?)`).run(to);
  raw.close();
}

test('at 15 queries per cell the same answers are inconclusive, not ok: no cell could have shown the drop', async () => {
  const r = await cli('compare', 'a', 'same', '--db', db, '--fail-on-drop', '1');
  assert.equal(r.code, 4, r.out + r.err);
  assert.doesNotMatch(r.out, /^ok:/m);
  assert.match(r.out, /INCONCLUSIVE: en\/word: smallest detectable drop \d+\.\d points at 15 paired queries is larger than the allowed 1/);
  assert.match(r.out, /^gate: inconclusive \(0 regressed, 8 inconclusive, 0 pass of 8 cells\) -> exit 4$/m);
  const json = JSON.parse((await cli('compare', 'a', 'same', '--db', db, '--fail-on-drop', '1', '--format', 'json')).out);
  assert.equal(json.gate.outcome, 'inconclusive');
  assert.equal(json.gate.exit_code, 4);
  assert.ok(json.gate.cells.every((c: { outcome: string; mdd_points: number }) => c.outcome === 'inconclusive' && c.mdd_points > 1));
});

test('issue 30 item 6: 5 queries in a cell, all lost (exact McNemar p = 0.0625) is inconclusive, never ok', async () => {
  const five =
    "rowid IN (SELECT rowid FROM results WHERE run_id = (SELECT id FROM runs WHERE name = 'a') AND language = 'en' AND style = 'word' ORDER BY rowid LIMIT 5)";
  verdictCopy('a', 'five-right', true, five);
  verdictCopy('a', 'five-wrong', false, five);
  const r = await cli('compare', 'five-right', 'five-wrong', '--db', db, '--fail-on-drop', '5', '--format', 'json');
  assert.equal(r.code, 4, r.out + r.err);
  const [cell] = JSON.parse(r.out).gate.cells;
  assert.equal(cell.delta_points, -100);
  assert.equal(cell.p_two_sided, 0.0625);
  assert.equal(cell.mdd_points, null);
  assert.match(cell.reason, /^5 paired queries cannot show a drop at alpha 0\.025 with power 0\.8 \(a cell needs at least 6 discordant pairs, all losses\)$/);
});

test('issue 30 item 6: every language down 100 points at 5 queries per cell: cells inconclusive, the pooled test fails the gate', async () => {
  const five =
    "rowid IN (SELECT rowid FROM results r WHERE run_id = (SELECT id FROM runs WHERE name = 'a') AND (SELECT COUNT(*) FROM results s WHERE s.run_id = r.run_id AND s.language = r.language AND s.style = r.style AND s.rowid < r.rowid) < 5)";
  verdictCopy('a', 'all-right', true, five);
  verdictCopy('a', 'all-wrong', false, five);
  const r = await cli('compare', 'all-right', 'all-wrong', '--db', db, '--fail-on-drop', '5');
  assert.equal(r.code, 1, r.out + r.err);
  assert.equal(r.out.match(/^INCONCLUSIVE: \w+\/\w+: 5 paired queries cannot show a drop/gm)?.length, 8);
  assert.match(r.out, /^FAIL: pooled -\d+\.\d pts: dropped/m);
  assert.match(r.out, /^gate: regressed \(0 regressed, 8 inconclusive, 0 pass of 8 cells\) -> exit 1$/m);
});

test('--fail-on-drop takes a plain non-negative number: abc, 1pt, 1,5, -1, NaN are refused with one line', async () => {
  for (const bad of ['abc', '1pt', '1,5', '-1', 'NaN', '', 'Infinity']) {
    const r = await cli('compare', 'a', 'same', '--db', db, '--fail-on-drop', bad);
    assert.equal(r.code, 2, `${bad}: ${r.out}${r.err}`);
    assert.match(r.err, new RegExp(`--fail-on-drop must be a number of points from 0 to 100 .*got "${bad}"`));
    assert.equal(r.err.trim().split('\n').length, 1);
  }
  assert.equal((await cli('compare', 'a', 'same', '--db', db, '--fail-on-drop', '0.5')).code, 4);
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

test('compare --format xml is refused; the check and the help come from the one format map (formatOption)', async () => {
  const r = await cli('compare', 'a', 'same', '--db', db, '--format', 'xml');
  assert.equal(r.code, 2);
  assert.match(r.err, /--format must be table, json, markdown or junit, got "xml"/);
  const help = (await cli('compare', '--help')).out.replace(/\s+/g, ' ');
  for (const f of ['table', 'json', 'markdown', 'junit']) assert.match(help, new RegExp(`\\b${f} \\(`), f);
  assert.match(help, /table \(terminal table\) \| json \(JSON\)/);
  assert.ok(Object.hasOwn(FORMATS, 'junit'));
});
