import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResultRow } from '../src/store/db.js';
import { multiRunTable } from '../src/report/multirun.js';
import { multiRunCells } from '../src/report/formats.js';
import { paraphraseRobustness } from '../src/report/paraphrase.js';
import { crossLingual, rankc } from '../src/report/crosslingual.js';
import { languageBias } from '../src/report/bias.js';
import { languageMetrics } from '../src/report/metrics.js';

/** A stored answer with only what the analyses read; `top` names candidates as label=uri. */
function row(p: Partial<ResultRow> & { top?: ResultRow['top'] } & { topIds?: string[] }): ResultRow {
  const top = p.top ?? (p.topIds ?? ['a']).map((id, i) => ({ label: id.toUpperCase(), score: -i, uri: id }));
  return {
    language: 'en',
    relation: 'P1',
    template: 't0',
    subject: 's',
    style: 'word',
    golds: ['A'],
    lineids: [0],
    gold_rank: 1,
    gold_score: 0,
    candidates: 10,
    covered: true,
    shard: null,
    sub_uri: 'Q1',
    gold_uris: ['a'],
    tie: false,
    template_main: true,
    ...p,
    top,
  };
}
const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);

test('RankC: softmax weights over reversed ranks times the overlap of top-j sets', () => {
  const e = Math.E;
  const z = e * e + e + 1;
  near(rankc(['a', 'b', 'c'], ['a', 'b', 'c']), 1);
  // [a,b,c] vs [b,a,c]: P@1 = 0, P@2 = 1, P@3 = 1 -> (e + 1) / (e^2 + e + 1)
  near(rankc(['a', 'b', 'c'], ['b', 'a', 'c']), (e + 1) / z);
  // [a,b,c] vs [a,c,d]: P@1 = 1, P@2 = 1/2, P@3 = 2/3
  near(rankc(['a', 'b', 'c'], ['a', 'c', 'd']), (e * e + e / 2 + 2 / 3) / z);
  near(rankc(['a', 'b'], ['c', 'd']), 0);
  // A list that names one object twice counts it once.
  near(rankc(['a', 'a'], ['a', 'b']), (e * 1 + 1 * (1 / 2)) / (e + 1));
});

test('cross-lingual: top-1 agreement and RankC by Wikidata id, over facts both languages were asked', () => {
  const rows = [
    row({ language: 'en', sub_uri: 'Q1', topIds: ['x', 'y'] }),
    row({ language: 'ja', sub_uri: 'Q1', topIds: ['x', 'y'] }),
    row({ language: 'en', sub_uri: 'Q2', topIds: ['x', 'y'] }),
    row({ language: 'ja', sub_uri: 'Q2', topIds: ['y', 'x'] }),
    // asked in en only: not a shared fact
    row({ language: 'en', sub_uri: 'Q3', topIds: ['x', 'y'] }),
    // a paraphrase answer is ignored
    row({ language: 'ja', sub_uri: 'Q3', topIds: ['x', 'y'], template_main: false }),
  ];
  const r = crossLingual(rows);
  assert.equal(r.styles.length, 1);
  const [p] = r.styles[0].pairs;
  assert.deepEqual([p.a, p.b, p.facts], ['en', 'ja', 2]);
  near(p.top1, 1 / 2);
  // Q1: 1; Q2: P@1 = 0, P@2 = 1 -> 1 / (e + 1)
  near(p.rankc, (1 + 1 / (Math.E + 1)) / 2);
  // Candidates without a Wikidata id match nothing, even with equal labels.
  const noUri = crossLingual([
    row({ language: 'en', top: [{ label: 'X', score: 0, uri: null }] }),
    row({ language: 'ja', top: [{ label: 'X', score: 0, uri: null }] }),
  ]);
  near(noUri.styles[0].pairs[0].top1, 0);
});

test('cross-lingual on answers stored before schema 2 says so instead of failing', () => {
  const r = crossLingual([row({ sub_uri: null, gold_uris: null, template_main: null })]);
  assert.deepEqual(r.styles, []);
  assert.match(r.unavailable!, /no Wikidata ids/);
});

test('paraphrase robustness: P@1 per template, spread, and pairwise top-1 agreement (mParaRel consistency)', () => {
  const rows: ResultRow[] = [];
  // Three templates, two subjects. s1 predicts A, A, B; s2 predicts B, B, B; gold A for both.
  const preds: Record<string, string[]> = { s1: ['a', 'a', 'b'], s2: ['b', 'b', 'b'] };
  for (const [subject, ps] of Object.entries(preds)) {
    ps.forEach((id, t) => rows.push(row({ subject, template: `t${t}`, topIds: [id], gold_rank: id === 'a' ? 1 : 2, template_main: t === 0 })));
  }
  const r = paraphraseRobustness(rows);
  assert.equal(r.relations.length, 1);
  const rel = r.relations[0];
  assert.deepEqual(
    rel.templates.map((t) => t.p_at_1),
    [0.5, 0.5, 0],
  );
  near(rel.spread, 0.5);
  near(rel.std, Math.sqrt(((1 / 6) ** 2 * 2 + (1 / 3) ** 2) / 3));
  // s1: pairs (0,1) agree, (0,2) and (1,2) differ; s2: all three agree -> 4 / 6
  assert.equal(rel.pairs, 6);
  near(rel.consistency!, 4 / 6);
  near(r.summary[0].consistency!, 4 / 6);
  // One template per relation: nothing to compare.
  assert.equal(paraphraseRobustness([row({})]).relations.length, 0);
});

test('language bias: the most predicted object, its share, and its share among the gold answers', () => {
  const rows = [
    row({ language: 'ja', subject: 's1', golds: ['日本'], topIds: ['日本'] }),
    row({ language: 'ja', subject: 's2', golds: ['中国'], topIds: ['日本'] }),
    row({ language: 'ja', subject: 's3', golds: ['韓国'], topIds: ['日本'] }),
    row({ language: 'ja', subject: 's4', golds: ['韓国'], topIds: ['韓国'] }),
    row({ language: 'ja', subject: 's1', golds: ['日本'], topIds: ['韓国'], template: 'para', template_main: false }),
  ];
  const b = languageBias(rows);
  assert.equal(b.relations.length, 1);
  const r = b.relations[0];
  assert.equal(r.top_object, '日本'.toUpperCase());
  assert.equal(r.queries, 4);
  near(r.predicted_share, 3 / 4);
  near(r.distinct_predictions, 2);
  // gold_share counts golds by label: the fixture's labels are the ids upper-cased (a no-op for kanji).
  near(r.gold_share, 1 / 4);
  near(b.summary[0].excess_share, 1 / 2);
});

test('multi-run table: languages as rows, run x style columns, the average over languages', () => {
  const a = [row({ language: 'en', gold_rank: 1 }), row({ language: 'en', subject: 't', gold_rank: 2 }), row({ language: 'ja', gold_rank: 1 })];
  const b = [row({ language: 'en', style: 'entity', gold_rank: 5 }), row({ language: 'en', gold_rank: 1 })];
  const t = multiRunTable([
    { run: 'A', label: 'mluke', styles: ['word'], languages: languageMetrics(a) },
    { run: 'B', label: 'xlmr', styles: ['word', 'entity'], languages: languageMetrics(b) },
  ]);
  assert.deepEqual(
    t.columns.map((c) => `${c.label}/${c.style}`),
    ['mluke/word', 'xlmr/word', 'xlmr/entity'],
  );
  assert.deepEqual(t.languages, ['en', 'ja']);
  assert.deepEqual(t.values, [
    [0.5, 1, 0],
    [1, null, null],
  ]);
  assert.deepEqual(t.average, [0.75, 1, 0]);
  assert.deepEqual(t.average_languages, [2, 1, 1]);
  // Text formats mark averages over fewer languages than the table's, and a partial run's columns.
  const cells = multiRunCells({ ...t, columns: t.columns.map((c) => ({ ...c, partial: c.run === 'B' })) });
  assert.deepEqual(cells.head, ['language', 'mluke word', 'xlmr word (partial)', 'xlmr entity (partial)']);
  assert.deepEqual(cells.rows.at(-1), ['average', '75.0', '100.0 (1/2)', '0.0 (1/2)']);
  assert.equal(cells.notes.length, 2);
  assert.match(cells.notes[0], /An average marked \(n\/2\) covers only the n of the 2 languages its column has/);
  assert.deepEqual(
    multiRunCells({ ...t, columns: t.columns.slice(0, 1), values: t.values.map((r) => r.slice(0, 1)), average: [0.75], average_languages: [2] }).notes,
    [],
  );
});

test('the tie flag: another candidate with exactly the best gold score, so candidate order decided the rank', async () => {
  const { rank } = await import('../src/model/scorer.js');
  const scores = Float64Array.from([0.5, 0.9, 0.9, 0.1]);
  const built = (golds: number[]) => ({ golds, style: { head: 'word' }, relation: { candidates: { labels: ['a', 'b', 'c', 'd'], entities: [] } } }) as never;
  const at = (golds: number[]) => {
    const s = rank({ built: built(golds), scores }, 10);
    return [s.goldRank, s.goldTie];
  };
  assert.deepEqual(at([2]), [2, true]);
  assert.deepEqual(at([1]), [1, true]);
  assert.deepEqual(at([3]), [4, false]);
  // The equal score belongs to another gold: no tie with a wrong answer.
  assert.deepEqual(at([1, 2]), [1, false]);
});
