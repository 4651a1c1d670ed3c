import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { answerLines, answerRecord } from '../src/report/answers.js';
import { languageBias } from '../src/report/bias.js';
import { crossLingual } from '../src/report/crosslingual.js';
import { paraphraseRobustness } from '../src/report/paraphrase.js';
import { answerRow } from './support/answer.js';
import { cli, SAMPLE_DATA, sampleCopy, tempDir } from './support/cli.js';

// An entity style where no candidate has an entity: every answer is uncovered and its "ranking" is the candidate
// file's order, the same in every language and for every subject.
const fileOrder = [
  { label: 'Tokyo', uri: 'Q1490', score: 0 },
  { label: 'Paris', uri: 'Q90', score: 0 },
];
const uncovered = ['en', 'ja'].flatMap((language) =>
  ['s1', 's2', 's3'].flatMap((subject, i) =>
    ['[X] was born in [Y] .', '[X] is from [Y] .'].map((template, t) =>
      answerRow({
        language,
        subject,
        style: 'entity',
        sub_uri: `Q${100 + i}`,
        golds: ['Paris'],
        gold_uris: ['Q90'],
        top: fileOrder,
        gold_rank: 1,
        tie: true,
        covered: false,
        template,
        template_main: t === 0,
      }),
    ),
  ),
);
// The word style of the same queries, scored: its predictions differ by language.
const scored = ['en', 'ja'].flatMap((language) =>
  ['s1', 's2', 's3'].map((subject, i) =>
    answerRow({
      language,
      subject,
      sub_uri: `Q${100 + i}`,
      top: language === 'en' ? fileOrder : [...fileOrder].reverse(),
      gold_uris: ['Q90'],
      template_main: true,
    }),
  ),
);

test('analyses leave uncovered answers out and count them, instead of reading the file order as a prediction', () => {
  const bias = languageBias([...uncovered, ...scored]);
  assert.deepEqual([...new Set(bias.relations.map((r) => r.style))], ['word']);
  assert.equal(bias.left_out_uncovered, 6);
  const cross = crossLingual([...uncovered, ...scored]);
  assert.deepEqual(
    cross.styles.map((s) => s.style),
    ['word'],
  );
  assert.equal(cross.styles[0].mean_top1, 0);
  assert.equal(cross.left_out_uncovered, 6);
  // Every answer uncovered: no style to report, and not "no Wikidata ids" either.
  const none = crossLingual(uncovered);
  assert.deepEqual(none.styles, []);
  assert.equal(none.unavailable, undefined);
  assert.equal(none.left_out_uncovered, 6);
  const para = paraphraseRobustness(uncovered);
  assert.deepEqual(para.relations, []);
  assert.equal(para.left_out_uncovered, 12);
});

test('answers: an uncovered answer is exported as not scored, never as rank 1 with a tie', () => {
  const a = answerRecord(uncovered[0]);
  assert.equal(a.covered, false);
  assert.equal(a.gold_rank, null);
  assert.equal(a.tie, null);
  const [head, line] = [...answerLines([uncovered[0]], 'csv')];
  const cols = head.trim().split(',');
  const cells = line.trim().split(',');
  assert.equal(cells[cols.indexOf('gold_rank')], '');
  assert.equal(cells[cols.indexOf('tie')], '');
  assert.equal(cells[cols.indexOf('covered')], '0');
  assert.equal(answerRecord(scored[0]).gold_rank, 1);
});

// The committed known-answer checkpoint (see test/knownAnswer.test.ts), run on a few queries only.
const CK = join(import.meta.dirname, '../datasets/known-answer');
const FACTS = join(CK, 'training-facts.jsonl');
const db = join(tempDir(), 'r.sqlite');
const ran = await cli('run', '--model', CK, '--data', SAMPLE_DATA, '--db', db, '--name', 'ka', '--styles', 'word', '--limit', '8', '--threads', '1');
assert.equal(ran.code, 0, ran.err);

test('known-answer refuses data other than the run evaluated, naming the language that differs', async () => {
  // lineids rotated by one row: the same triples, each lineid now leading to the next subject.
  const data = sampleCopy();
  const file = join(data, 'en', 'P19.jsonl');
  const lines = readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  writeFileSync(file, lines.map((t, i) => JSON.stringify({ ...t, lineid: lines[(i + 1) % lines.length].lineid })).join('\n') + '\n');
  const r = await cli('known-answer', '--run', 'ka', '--facts', FACTS, '--data', data, '--db', db);
  assert.equal(r.code, 2, r.out + r.err);
  assert.equal(r.err.trim().split('\n').length, 1);
  assert.match(
    r.err,
    new RegExp(`^error: --data ${data} is not the data run "ka" evaluated: its fingerprint differs in en: "[0-9a-f]+" vs "[0-9a-f]+" \\(stored vs given\\)`),
  );
  assert.equal((await cli('known-answer', '--run', 'ka', '--facts', FACTS, '--data', SAMPLE_DATA, '--db', db)).code, 0);
});

test('known-answer --check on a word-only run checks the word style, with no NaN for an entity style it never had', async () => {
  const r = await cli('known-answer', '--run', 'ka', '--facts', FACTS, '--data', SAMPLE_DATA, '--db', db, '--check', '--format', 'json');
  const j = JSON.parse(r.out);
  assert.ok(
    j.failures.every((f: string) => !/entity|NaN/.test(f)),
    j.failures.join('; '),
  );
  const t = await cli('known-answer', '--run', 'ka', '--facts', FACTS, '--data', SAMPLE_DATA, '--db', db, '--check');
  assert.doesNotMatch(t.out.split('\n').find((l) => l.startsWith('check '))!, /NaN|entity/);
});

test('known-answer --format html: the trained / transfer / held-out classes charted on one self-contained page', async () => {
  const r = await cli('known-answer', '--run', 'ka', '--facts', FACTS, '--data', SAMPLE_DATA, '--db', db, '--format', 'html');
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.out, /<script|<link|src="http/);
  assert.match(r.out, /<figure id="classes"><svg/);
  for (const part of ['trained', 'transfer', 'held-out']) assert.match(r.out, new RegExp(`<td>${part}</td>`));
  assert.match(r.out, /trained_p1_word=[\d.]+ trained_p1_entity=NaN/);
});
