import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { type KnownAnswerReport, knownAnswerReport, type PartAgreement } from '../src/report/knownAnswer.js';
import { answerRow } from './support/answer.js';
import { cli, SAMPLE_DATA, tempDir } from './support/cli.js';

const CK = join(import.meta.dirname, '../datasets/known-answer');
const FACTS = join(CK, 'training-facts.jsonl');

// Measured on the committed checkpoint (docs/DEVELOPMENT.md, known-answer): mean top-1 agreement trained 0.997
// entity / 0.987 word, held-out 0.522 entity / 0.242 word. The held-out entity answers agree more than they are right (shared
// entity ids make wrong guesses language-agnostic too), so its margin is the smaller one.
const MARGIN = { entity: 0.25, word: 0.5 };

const agreement = (r: Pick<KnownAnswerReport, 'cross_lingual'>, part: string, style: string): PartAgreement | undefined =>
  r.cross_lingual.find((c) => c.part === part && c.style === style);

test("the known-answer checkpoint's trained facts agree across languages, its held-out facts much less", async () => {
  const db = join(tempDir(), 'r.sqlite');
  const r = await cli('run', '--model', CK, '--data', SAMPLE_DATA, '--styles', 'word,entity', '--name', 'known', '--db', db, '--threads', '1');
  assert.equal(r.code, 0, r.err);
  const k = await cli('known-answer', '--run', 'known', '--facts', FACTS, '--data', SAMPLE_DATA, '--db', db, '--format', 'json');
  assert.equal(k.code, 0, k.err);
  const report = JSON.parse(k.out) as KnownAnswerReport;
  for (const style of ['entity', 'word'] as const) {
    const trained = agreement(report, 'trained', style);
    const heldOut = agreement(report, 'held-out', style);
    assert.ok(trained && heldOut);
    // Four languages, every trained and held-out fact asked in all of them: six pairs each.
    assert.equal(trained.pairs.length, 6);
    assert.equal(heldOut.pairs.length, 6);
    for (const p of trained.pairs) assert.ok(p.top1 >= 0.8, `trained ${style} top-1 agreement ${p.a}-${p.b} ${p.top1}`);
    assert.ok(trained.mean_top1! >= 0.8, `trained ${style} top-1 agreement ${trained.mean_top1}`);
    const lower = `held-out ${style} top-1 agreement ${heldOut.mean_top1} vs trained ${trained.mean_top1}`;
    assert.ok(heldOut.mean_top1! <= trained.mean_top1! - MARGIN[style], lower);
  }
  // Transfer compares each transfer language with English, where those facts were trained.
  const transfer = agreement(report, 'transfer', 'entity');
  assert.deepEqual(transfer?.pairs.map((p) => `${p.a}-${p.b}`).sort(), ['en-ar', 'en-ja', 'en-zh']);

  const table = await cli('known-answer', '--run', 'known', '--facts', FACTS, '--data', SAMPLE_DATA, '--db', db);
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /│ facts +│ style +│ pairs +│ facts compared +│ top-1 agreement +│ RankC +│/);
  const trained = agreement(report, 'trained', 'entity')!;
  assert.match(
    table.out,
    new RegExp(`│ trained +│ entity +│ +6 │ +${trained.facts} │ +${trained.mean_top1!.toFixed(3)} │ +${trained.mean_rankc!.toFixed(3)} │`),
  );
});

test('agreement within a class counts a fact for a language pair only when both its queries are of that class', () => {
  const subjectOf = (_l: string, _r: string, lineid: number) => `Q${lineid}`;
  // Q1 trained in en and ja, Q2 in en only (transfer to ja), Q3 and Q4 never.
  const facts = [
    { language: 'en', relation: 'P1', subUri: 'Q1', objUri: 'Q9' },
    { language: 'ja', relation: 'P1', subUri: 'Q1', objUri: 'Q9' },
    { language: 'en', relation: 'P1', subUri: 'Q2', objUri: 'Q8' },
  ];
  const row = (language: string, id: number, top: string[]) =>
    answerRow({ language, relation: 'P1', lineids: [id], sub_uri: `Q${id}`, top: top.map((uri, i) => ({ label: uri, uri, score: -i })), template_main: true });
  const rows = [
    row('en', 1, ['Q9', 'Q8']),
    row('ja', 1, ['Q9', 'Q7']),
    row('en', 2, ['Q8', 'Q9']),
    row('ja', 2, ['Q9', 'Q8']),
    row('en', 3, ['Q7', 'Q8']),
    row('ja', 3, ['Q7', 'Q9']),
    row('en', 4, ['Q8', 'Q7']),
    row('ja', 4, ['Q9', 'Q7']),
  ];
  const r = knownAnswerReport(rows, facts, subjectOf);
  // RankC of two 2-lists: weights e/(e+1) at j=1 and 1/(e+1) at j=2; |top_j ∩| / j.
  const w1 = Math.E / (Math.E + 1);
  const w2 = 1 / (Math.E + 1);
  const trained = agreement(r, 'trained', 'word')!;
  assert.deepEqual([trained.pairs.length, trained.facts, trained.mean_top1], [1, 1, 1]); // Q1 only: Q2 is trained in en alone
  assert.ok(Math.abs(trained.mean_rankc! - (w1 + w2 / 2)) < 1e-12);
  const transfer = agreement(r, 'transfer', 'word')!;
  assert.deepEqual(
    transfer.pairs.map((p) => [p.a, p.b, p.facts, p.top1]),
    [['en', 'ja', 1, 0]],
  ); // Q2: Q8 vs Q9
  assert.ok(Math.abs(transfer.mean_rankc! - w2) < 1e-12); // both lists hold Q8 and Q9
  const heldOut = agreement(r, 'held-out', 'word')!;
  assert.deepEqual([heldOut.facts, heldOut.mean_top1], [2, 0.5]); // Q3 agrees on Q7, Q4 does not
  assert.ok(Math.abs(heldOut.mean_rankc! - (w1 + w2 / 2 + w2 / 2) / 2) < 1e-12);
});
