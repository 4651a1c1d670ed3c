import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MlamaPrecision } from '../src/report/protocolMetrics.js';
import { compareP1, compareTriples, diagnose, oneMask, ourAnswers, type TheirTriple } from '../tools/protocols/mlama-compare.js';

// tools/protocols/mlama-compare.ts: how mLAMA's original per-triple answers are set against the harness's.

const triple = (lineid: number, top1: string, top1Score: number, secondScore: number | null, subject = 'S'): TheirTriple => ({
  language: 'ja',
  relation: 'P30',
  lineid,
  subject,
  gold: 'Asia',
  top1,
  top1Score,
  secondScore,
  rank: 0,
});

test("a query's answer is every one of its triples' answer", () => {
  const ours = ourAnswers([
    {
      language: 'ja',
      relation: 'P30',
      lineids: [3, 7],
      top: [
        { label: 'Asia', score: -1 },
        { label: 'Europe', score: -2 },
      ],
    },
    { language: 'ja', relation: 'P30', lineids: [9], top: [{ label: 'Africa', score: -0.5 }] },
  ]);
  assert.deepEqual(ours.get('ja/P30/7'), { top1: 'Asia', top1Score: -1, secondScore: -2 });
  assert.deepEqual(ours.get('ja/P30/9'), { top1: 'Africa', top1Score: -0.5, secondScore: null });
});

test('a differing top-1 is a near tie only where either side had its two best within the tolerance', () => {
  // Four ja P30 triples answered Asia; only the third had Europe within the tolerance.
  const answer = (lineid: number, europe: number) => ({
    language: 'ja',
    relation: 'P30',
    lineids: [lineid],
    top: [
      { label: 'Asia', score: -1 },
      { label: 'Europe', score: europe },
    ],
  });
  const ours = ourAnswers([answer(1, -1.5), answer(2, -1.5), answer(3, -1.00005), answer(4, -1.5)]);
  const r = compareTriples(
    [triple(1, 'Asia', -1, -1.5), triple(2, 'Europe', -1, -1.00009), triple(3, 'Europe', -1, -1.3), triple(4, 'Europe', -1, -1.3), triple(5, 'Asia', -1, -2)],
    ours,
  );
  assert.equal(r.total, 5);
  assert.equal(r.nearTies, 2);
  assert.equal(r.top1Equal, 3);
  assert.deepEqual(
    r.differ.map((d) => d.triple.lineid),
    [4, 5],
  );
});

test('P@1 is equal only where every relation (date ones skipped, as eval.py does) and the printed mean agree', () => {
  const ours: MlamaPrecision[] = [
    {
      style: 'word',
      language: 'ja',
      relations: { P30: { triples: 4, p1: 0.25 }, P19: { triples: 2, p1: 0.5 } },
      p1: 0.375,
      skipped: ['date_of_birth'],
    },
  ];
  const same = compareP1({ ja: { P30: 0.25, P19: 0.5, date_of_birth: 1 } }, { ja: { triples: 6, p1: 0.375 } }, ours);
  assert.equal(same.equal, true);
  assert.match(same.lines[0], /relations with equal P@1 2\/2/);
  const other = compareP1({ ja: { P30: 0.5, P19: 0.5 } }, { ja: { triples: 6, p1: 0.5 } }, ours);
  assert.equal(other.equal, false);
  assert.match(other.lines[0], /theirs \(eval.py\) 50.00, harness 37.50; relations with equal P@1 1\/2/);
  // eval.py's CSV without the language: its mean was not compared, so not equal; without eval.py at all, said so.
  assert.equal(compareP1({ ja: { P30: 0.25, P19: 0.5 } }, {}, ours).equal, false);
  const unprinted = compareP1({ ja: { P30: 0.25, P19: 0.5 } }, null, ours);
  assert.equal(unprinted.equal, true);
  assert.match(unprinted.lines.at(-1)!, /^eval\.py not run .*: per-language means not compared$/);
});

test('a difference is put on the candidates first, then on the sentence', () => {
  const MASK = 103;
  assert.deepEqual(oneMask([101, 5, MASK, MASK, 6, MASK, 102], MASK), [101, 5, MASK, 6, MASK, 102]);
  const differ = compareTriples(
    [triple(1, 'Europe', -1, -2, 'A'), triple(2, 'Europe', -1, -2, 'B'), triple(3, 'Europe', -1, -2, 'C')],
    ourAnswers([1, 2, 3].map((i) => ({ language: 'ja', relation: 'P30', lineids: [i], top: [{ label: i === 1 ? 'Africa' : 'Asia', score: -1 }] }))),
  ).differ;
  const theirs = {
    candidateIds: { 'ja/P30': { Europe: [7], Asia: [8], Africa: [9, 10] } },
    sentenceIds: { 'ja/P30/A': [101, MASK, 102], 'ja/P30/B': [101, MASK, 200, 102], 'ja/P30/C': [101, 300, MASK, 102] },
  };
  const ours = {
    mask: MASK,
    candidates: new Map([
      [
        'ja/P30',
        new Map([
          ['Europe', [7]],
          ['Asia', [8]],
          ['Africa', [9, 11]],
        ]),
      ],
    ]),
    sentences: new Map([
      ['ja/P30/A', [101, MASK, 102]],
      ['ja/P30/B', [101, 200, MASK, MASK, 102]],
      ['ja/P30/C', [101, 300, MASK, MASK, 102]],
    ]),
  };
  const d = diagnose(differ, theirs, ours);
  assert.deepEqual(d.cause, { candidate: 1, sentence: 1, unexplained: 1 });
  assert.match(d.lines[0], /otherwise than the harness: 1\/3 \(ja 1\); candidates tokenized otherwise: 1\/3/);
});
