import assert from 'node:assert/strict';
import { test } from 'node:test';
import { languageMetrics } from '../src/report/metrics.js';
import type { ResultRow } from '../src/store/db.js';
import { answerRow } from './support/answer.js';

/** A stored answer with just what the metrics read. */
export function row(relation: string, subject: string, goldRank: number, o: Partial<ResultRow> = {}): ResultRow {
  const top = [
    { label: 'g', score: -1 },
    { label: 'h', score: -2 },
  ];
  return answerRow({ relation, subject, template: 't', golds: ['g'], top, gold_rank: goldRank, candidates: 20, ...o });
}

test("macro P@1 skips relations whose name contains 'date' (mLAMA's rule), not P569/P570 by id", () => {
  const rows = [
    row('P19', 'a', 1),
    row('P19', 'b', 2), // P19: 0.5
    row('P569', 'c', 1), // a T-REx relation: counted, 1.0
    row('date_of_birth', 'd', 5), // GoogleRE's date relation: skipped
  ];
  const [m] = languageMetrics(rows);
  assert.equal(m.macro_p_at_1, (0.5 + 1) / 2);
});

test('answers decided by ties are counted: gold tied with the top score, first or not', async () => {
  const { tieDecided, tieWarnings } = await import('../src/report/metrics.js');
  const tiedFirst = row('P19', 'a', 1, {
    gold_score: -1,
    top: [
      { label: 'g', score: -1 },
      { label: 'h', score: -1 },
    ],
  });
  const tiedLater = row('P19', 'b', 2, {
    gold_score: -1,
    top: [
      { label: 'h', score: -1 },
      { label: 'g', score: -1 },
    ],
  });
  const clear = row('P19', 'c', 1);
  const wrong = row('P19', 'd', 3, { gold_score: -3 });
  const uncovered = row('P19', 'e', 1, {
    covered: false,
    gold_score: -1e30,
    top: [
      { label: 'g', score: -1e30 },
      { label: 'h', score: -1e30 },
    ],
  });
  assert.deepEqual([tiedFirst, tiedLater, clear, wrong, uncovered].map(tieDecided), [true, true, false, false, false]);
  // With the scorer's flag stored: two golds sharing the top score are no tie with a wrong answer; a flagged gold
  // below the top score is not decided at the top.
  const goldsTied = { ...tiedFirst, golds: ['g', 'h'] };
  assert.deepEqual(
    [
      { ...goldsTied, tie: false },
      { ...tiedFirst, tie: true },
      { ...tiedLater, tie: true },
      { ...wrong, tie: true },
      { ...clear, tie: false },
    ].map(tieDecided),
    [false, true, true, false, false],
  );
  // Without the flag (answers stored before it), the top list decides: a tie with a second gold is no tie.
  assert.equal(tieDecided(goldsTied), false);
  assert.equal(tieDecided({ ...goldsTied, golds: ['g'] }), true);
  const [m] = languageMetrics([tiedFirst, tiedLater, clear, wrong, uncovered]);
  assert.equal(m.ties, 2);
  assert.equal(tieWarnings([m]).length, 1);
  assert.match(tieWarnings([m])[0], /ties with the top score decide 2 of 5 en\/word answers \(40\.0%\)/);
  assert.deepEqual(tieWarnings(languageMetrics([clear, wrong])), []);
});

test('report: ties are stored per language in JSON/CSV and warned about when they decide many answers', async () => {
  const { join } = await import('node:path');
  const { default: Database } = await import('better-sqlite3');
  const { cli, SAMPLE_DATA, tempDir } = await import('./support/cli.js');
  const { tinyCheckpoint } = await import('./support/fixtures.js');
  const db = join(tempDir(), 'ties.sqlite');
  assert.equal(
    (
      await cli(
        'run',
        '--data',
        SAMPLE_DATA,
        '--model',
        tinyCheckpoint(1, false, SAMPLE_DATA),
        '--languages',
        'en,ja',
        '--limit',
        '3',
        '--styles',
        'word',
        '--db',
        db,
        '--name',
        'r',
      )
    ).code,
    0,
  );
  // What a tokenizer mapping ja to <unk> gives: every ja candidate scores the same.
  const raw = new Database(db);
  raw.exec(
    `UPDATE results SET top = json_set(top, '$[1].score', json_extract(top, '$[0].score')), gold_score = json_extract(top, '$[0].score'), tie = 1 WHERE language = 'ja'`,
  );
  raw.close();
  const r = await cli('report', '--run', 'r', '--db', db, '--format', 'json');
  assert.equal(r.code, 0, r.err);
  const json = JSON.parse(r.out);
  const ja = json.languages.find((m: any) => m.language === 'ja');
  assert.equal(ja.ties, ja.queries);
  assert.equal(json.languages.find((m: any) => m.language === 'en').ties, 0);
  assert.match(r.err, /warning: ties with the top score decide \d+ of \d+ ja\/word answers \(100\.0%\)/);
  assert.doesNotMatch(r.err, /en\/word answers/);
});

test('an answer too long to score counts 0 in MRR, as it is wrong at every k', () => {
  const scored = row('P19', 'a', 2);
  const unscored = row('P19', 'b', 21, { top: [], gold_score: -1e30 });
  const [m] = languageMetrics([scored, unscored]);
  assert.equal(m.too_long, 1);
  assert.equal(m.p_at_10, 0.5);
  assert.equal(m.mrr, (1 / 2 + 0) / 2);
});
