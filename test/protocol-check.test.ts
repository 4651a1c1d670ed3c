import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import type { AuthorsPrecision, AuthorsQuestion } from '../src/report/protocolMetrics.js';
import { compareAuthors, NEAR_TIE, type TheirResult } from '../tools/protocols/authorsCompare.js';
import { runnableLayout } from '../tools/protocols/layout.js';
import { harnessRun } from '../tools/protocols/harnessRun.js';
import { SAMPLE_DATA, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';

const q = (question: string, answer: string, top1: string, rank: number, tiedWith = 0, bestRank = rank): AuthorsQuestion => ({
  style: 'word',
  language: 'en',
  question,
  answer,
  top1: { label: top1, score: -1 },
  rank,
  bestRank,
  tiedWith,
});
const precision = (p: Record<number, number>, questions: number): AuthorsPrecision => ({ style: 'word', language: 'en', questions, p, ties: 0 });

test('the authors-script check: equal top-1 and gold rank, a near tie within tolerance, and a real difference named', () => {
  const theirs: TheirResult = {
    metrics: { k1: 1 / 3, k5: 1 },
    output: {
      'a [Y]': {
        answer: 'A',
        candidates: [
          ['A', -1],
          ['B', -2],
        ],
      },
      // B and C within NEAR_TIE: the script put B first, the harness C; the answer C is second or first.
      'b [Y]': {
        answer: 'C',
        candidates: [
          ['B', -1],
          ['C', -1 - NEAR_TIE / 2],
          ['D', -3],
        ],
      },
      'c [Y]': {
        answer: 'E',
        candidates: [
          ['F', -1],
          ['G', -2],
          ['E', -3],
        ],
      },
    },
  };
  const ours = [q('a [Y]', 'A', 'A', 1), q('b [Y]', 'C', 'C', 1, 1), q('c [Y]', 'E', 'G', 2)];
  const a = compareAuthors(theirs, ours, precision({ 1: 2 / 3, 5: 1 }, 3), 100);
  assert.equal(a.questions, 3);
  assert.equal(a.answerEqual, 3);
  assert.deepEqual([a.top1Equal, a.top1NearTies], [2, 1]);
  assert.deepEqual([a.rankEqual, a.rankNearTies], [2, 1]);
  assert.deepEqual(a.differences, ['c [Y]: top-1 F (script) vs G', 'c [Y]: gold rank 3 (script) vs 2']);
  // P@1: the script counts 1, the harness 2; the near tie allows 1 to 2.
  assert.deepEqual(a.pAtK, [
    { k: 1, theirs: 1, ours: 2, span: [1, 2] },
    { k: 5, theirs: 3, ours: 3, span: [3, 3] },
  ]);
});

test('the authors-script check: a question one side lacks is named, and ranks past the stored candidates are equal', () => {
  const theirs: TheirResult = {
    metrics: { k1: 0 },
    output: {
      'a [Y]': { answer: 'A', candidates: [...Array.from({ length: 120 }, (_, i): [string, number] => [`x${i}`, -i]), ['A', -500]] },
      'only theirs [Y]': { answer: 'B', candidates: [['B', -1]] },
    },
  };
  const a = compareAuthors(theirs, [q('a [Y]', 'A', 'x0', Number.POSITIVE_INFINITY), q('only ours [Y]', 'C', 'C', 1)], precision({ 1: 0 }, 2), 100);
  assert.deepEqual(a.onlyTheirs, ['only theirs [Y]']);
  assert.deepEqual(a.onlyOurs, ['only ours [Y]']);
  assert.equal(a.rankEqual, 1);
  assert.deepEqual(a.differences, []);
});

test("both checks' harness side: one mlama run stored under its name and read back; a fresh check replaces the file", () => {
  const run = { model: tinyCheckpoint(1, false, SAMPLE_DATA), data: SAMPLE_DATA, db: join(tempDir(), 'harness.sqlite'), languages: ['en'] };
  const first = harnessRun({ ...run, name: 'mlama-original', protocol: 'mlama', fresh: true });
  assert.ok(first.length > 0 && first.every((r) => r.language === 'en'));
  // Beside it in the same file, another name; then the same name again on a fresh file, not "name taken".
  assert.equal(harnessRun({ ...run, name: 'paper', protocol: 'paper' }).filter((r) => r.style === 'word').length, first.length);
  assert.deepEqual(harnessRun({ ...run, name: 'mlama-original', protocol: 'mlama', fresh: true }).length, first.length);
});

test("the checks' layout appends each missing gold once, in triple order, counted per relation; [Y]-first relations go only when asked", () => {
  const languages = ['en', 'ja', 'ar', 'zh'];
  const drop = runnableLayout(tempDir(), SAMPLE_DATA, languages, { yFirst: 'drop' });
  assert.deepEqual(drop.objectsAdded, { 'en/P30': 1, 'ar/P103': 1, 'ar/P30': 1, 'zh/P103': 1, 'zh/P19': 10, 'zh/P36': 21, 'zh/P1412': 3 });
  const file = (lang: string) => JSON.parse(readFileSync(join(drop.data, 'TREx_multilingual_objects', `${lang}.json`), 'utf8'));
  const given = JSON.parse(readFileSync(join(SAMPLE_DATA, 'TREx_multilingual_objects', 'zh.json'), 'utf8')).P36.objects as string[];
  const golds = readFileSync(join(SAMPLE_DATA, 'zh', 'P36.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).obj_label as string);
  const missing = [...new Set(golds.filter((g) => !given.includes(g)))];
  assert.deepEqual(file('zh').P36.objects, [...given, ...missing]);
  assert.deepEqual(
    drop.leftOut.map((l) => `${l.language}/${l.relation}`),
    ['ja/P103', 'ja/P36', 'ja/P1412', 'ar/P103', 'ar/P36', 'ar/P1412', 'zh/P36'],
  );
  assert.ok(!drop.relationOrder.ja.includes('P103'));
  const keep = runnableLayout(tempDir(), SAMPLE_DATA, languages, { yFirst: 'keep' });
  assert.deepEqual(keep.leftOut, []);
  assert.deepEqual(keep.objectsAdded, drop.objectsAdded);
  assert.ok(keep.relationOrder.ja.includes('P103'));
});
