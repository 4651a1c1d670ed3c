import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aggregate, averageOverLanguages, languageMetrics, METRICS, P_AT_K, relationMetrics } from '../src/report/metrics.js';
import { REPORT_FORMAT_NAMES, REPORT_FORMATS } from '../src/report/formats.js';
import { compareTable, languageTable, reportOf } from '../src/report/render.js';
import type { PairedDelta } from '../src/report/compare.js';
import { bundleOf, runReport } from '../src/report/bundle.js';
import type { ResultRow, RunRecord } from '../src/store/db.js';
import { answerRow } from './support/answer.js';
import { cli } from './support/cli.js';

// Fast tier: hand-made stored answers with hand-computed metrics.
function row(o: Partial<ResultRow> & { gold_rank: number }): ResultRow {
  return answerRow({
    template: 't',
    subject: `s${Math.random()}`,
    golds: ['G'],
    top: [{ label: 'G', score: -1 }],
    gold_score: o.gold_rank === 1 ? -1 : -5,
    candidates: 200,
    ...o,
  });
}
const word = [row({ gold_rank: 1 }), row({ gold_rank: 3 }), row({ relation: 'P103', gold_rank: 7 }), row({ relation: 'P569', gold_rank: 1 })];
const entity = [
  row({ style: 'entity', gold_rank: 1 }),
  row({ style: 'entity', gold_rank: 2, covered: false }),
  row({
    style: 'entity',
    relation: 'P103',
    gold_rank: 150,
    top: [
      { label: 'A', score: -2 },
      { label: 'B', score: -2.5 },
    ],
    gold_score: -9,
  }),
];
/** A complete run record with these styles: what the report renderers read of a run. */
const runWith = (styles: string[]) =>
  ({
    id: 1,
    name: 'r',
    status: 'complete',
    random_weights: true,
    started_at: '',
    finished_at: null,
    options: { styles },
    checkpoint: {},
  }) as unknown as RunRecord;
const def = (key: string) => METRICS.find((m) => m.key === key)!;
const close = (a: number | null, b: number) => assert.ok(a !== null && Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test("the metric table holds the authors' P@k list, MRR, the relation macro, coverage and ties, each once", () => {
  // The authors' hits@k, in order; a k added to the table (P@3) needs no edit here.
  assert.deepEqual(
    P_AT_K.filter((k) => [1, 5, 10, 100].includes(k)),
    [1, 5, 10, 100],
  );
  // A metric added to the table needs no edit here: the list is checked for what it must hold, in order, once each.
  const keys = METRICS.map((m) => m.key);
  const must = [...P_AT_K.map((k) => `p_at_${k}`), 'macro_p_at_1', 'mrr', 'entity_coverage', 'p_at_1_covered', 'ties', 'too_long'];
  assert.deepEqual(
    keys.filter((k) => must.includes(k)),
    must,
  );
  assert.equal(new Set(keys).size, METRICS.length);
});

test('word head: P@k micro over queries, macro over relations without dates, MRR', () => {
  close(aggregate(def('p_at_1'), word), 2 / 4);
  close(aggregate(def('p_at_5'), word), 3 / 4);
  close(aggregate(def('p_at_10'), word), 1);
  close(aggregate(def('p_at_100'), word), 1);
  close(aggregate(def('mrr'), word), (1 + 1 / 3 + 1 / 7 + 1) / 4);
  // P19: 1 of 2; P103: 0 of 1; P569 (date of birth, but a T-REx relation: only names holding "date" are skipped): 1 of 1.
  close(aggregate(def('macro_p_at_1'), word), (0.5 + 0 + 1) / 3);
  close(aggregate(def('ties'), word), 0);
});

test('entity head: an uncovered query is wrong, coverage and P@1 on covered beside it; ties at the gold score', () => {
  close(aggregate(def('p_at_1'), entity), 1 / 3);
  close(aggregate(def('p_at_100'), entity), 1 / 3);
  close(aggregate(def('entity_coverage'), entity), 2 / 3);
  close(aggregate(def('p_at_1_covered'), entity), 1 / 2);
  close(aggregate(def('mrr'), entity), (1 + 0 + 1 / 150) / 3);
  const tied = row({
    gold_rank: 2,
    golds: ['G'],
    top: [
      { label: 'A', score: -1.5 },
      { label: 'G', score: -1.5 },
    ],
    gold_score: -1.5,
  });
  close(aggregate(def('ties'), [tied, row({ gold_rank: 1 })]), 1);
});

test('per language and relation tables carry every metric; the language average weighs each language once', () => {
  const ja = [row({ language: 'ja', gold_rank: 1 })];
  const langs = languageMetrics([...word, ...ja]);
  assert.deepEqual(
    langs.map((m) => [m.language, m.style, m.queries]),
    [
      ['en', 'word', 4],
      ['ja', 'word', 1],
    ],
  );
  for (const m of METRICS) assert.equal(typeof langs[0][m.key], 'number', m.key);
  const avg = averageOverLanguages(langs)[0];
  close(avg.p_at_1, (0.5 + 1) / 2);
  assert.equal(avg.queries, 5);
  const rel = relationMetrics(word);
  assert.deepEqual(
    rel.map((r) => [r.relation, r.queries, r.p_at_1, r.p_at_5]),
    [
      ['P19', 2, 0.5, 1],
      ['P103', 1, 0, 0],
      ['P569', 1, 1, 1],
    ],
  );
});

test("report columns follow each style's head, not its name", () => {
  const rows = [...word.map((r) => ({ ...r, style: 'entity-word' })), ...entity];
  const run = runWith(['entity-word', 'entity']);
  const langs = languageMetrics(rows);
  const t = languageTable(reportOf(run, langs, averageOverLanguages(langs), []));
  // entity-word reads the word head: no coverage columns of its own, and it is the word side of the difference.
  assert.deepEqual(t.head, [
    'language',
    'queries',
    'entity-word P@1',
    'entity-word P@10',
    'entity P@1',
    'entity P@10',
    'entity-entity-word',
    'entity coverage',
    'entity P@1 covered',
  ]);
  assert.deepEqual(t.rows[0], ['en', 4, '50.0', '100.0', '33.3', '33.3', '-16.7', '66.7', '50.0']);
});

test('P@1 covered where no query is covered is undefined: null, "-" in the table, left out of the average', () => {
  const de = [row({ language: 'de', style: 'entity', gold_rank: 3, covered: false }), row({ language: 'de', style: 'entity', gold_rank: 9, covered: false })];
  const langs = languageMetrics([...entity, ...de]);
  const [deM, enM] = langs;
  assert.equal(deM.entity_coverage, 0);
  assert.equal(deM.p_at_1_covered, null);
  close(enM.p_at_1_covered, 1 / 2);
  const [avg] = averageOverLanguages(langs);
  close(avg.p_at_1_covered, 1 / 2);
  close(avg.entity_coverage, (0 + 2 / 3) / 2);
  const t = languageTable(reportOf(runWith(['entity']), langs, [avg], []));
  assert.deepEqual(t.rows[0].slice(-2), ['0.0', '-']);
  assert.deepEqual(t.rows.at(-1)!.slice(-2), ['33.3', '50.0']);
});

test('markdown: the per-language P@1 table, numbers right-aligned', async () => {
  const run = runWith(['word']);
  const md = await REPORT_FORMATS.markdown.render(bundleOf([runReport(run, word, false)], {}));
  assert.deepEqual(md.split('\n').slice(0, 4), ['| language | r word |', '| --- | ---: |', '| en | 50.0 |', '| average | 50.0 |']);
});

test('every percentage a report prints has one decimal, whole numbers too (50.0 beside 33.3), right-aligned', async () => {
  const run = runWith(['word', 'entity']);
  const render = async (f: 'table' | 'markdown' | 'latex', runs: RunRecord[], relations = false) =>
    REPORT_FORMATS[f].render(
      bundleOf(
        runs.map((r) => runReport(r, [...word, ...entity], false)),
        {},
      ),
      { colour: false, relations },
    );
  // en: word P@1 2/4 and P@10 4/4, entity P@1 1/3: the single-run table and its per-relation rows.
  const table = await render('table', [run], true);
  assert.match(table, /│ en +│ +4 │ +50\.0 │ +100\.0 │ +33\.3 │/);
  assert.match(table, /│ en +│ word +│ P103 +│ +1 │ +0\.0 │/);
  const two = [run, { ...run, id: 2, name: 's' } as RunRecord];
  for (const f of ['table', 'markdown', 'latex'] as const) {
    const text = await render(f, two);
    assert.match(text, /\b50\.0\b/, f);
    // No cell holds a bare whole number where percentages are printed.
    assert.doesNotMatch(text, /(│|\||&) +(50|100) +(│|\||\\\\|&)/, f);
  }
  const delta: PairedDelta = {
    language: 'en',
    style: 'word',
    style_a: 'word',
    style_b: 'word',
    paired: 4,
    a_correct: 2,
    b_correct: 4,
    losses: 0,
    gains: 2,
    near_ties: 0,
    value_a: 0.5,
    value_b: 1,
    delta_points: 50,
    a_only: 0,
    b_only: 2,
    p_value: 0.5,
  };
  assert.match(compareTable([delta], undefined, false), /│ en +│ word +│ +4 │ +50\.0 │ +100\.0 │ +50\.0 │/);
  // A p value below what three decimals show prints as a bound: its column stays right-aligned beside 0.500.
  const both = compareTable([delta, { ...delta, language: 'ja', p_value: 1e-4 }], undefined, false);
  assert.match(both, /│ en .*│ +0\.500 │$/m);
  assert.match(both, /│ ja .*│ +<0\.001 │$/m);
});

test('report formats come from one map: the option check and the help list its keys', async () => {
  assert.deepEqual(REPORT_FORMAT_NAMES, Object.keys(REPORT_FORMATS));
  for (const f of ['table', 'markdown', 'csv', 'json', 'html', 'latex']) assert.ok(REPORT_FORMAT_NAMES.includes(f as never), f);
  const bad = await cli('report', '--format', 'xml', '--db', '/nonexistent/x.sqlite');
  assert.equal(bad.code, 2);
  const names = REPORT_FORMAT_NAMES;
  assert.equal(bad.err, `error: --format must be ${names.slice(0, -1).join(', ')} or ${names.at(-1)}, got "xml"\n`);
  const help = await cli('report', '--help');
  for (const f of REPORT_FORMAT_NAMES) assert.match(help.out, new RegExp(`\\b${f} \\(`));
});

test('every report format renders one run and several, naming each run: a format added to the map is checked here', async () => {
  const runs = ['alpha-run', 'beta-run'].map((name) => ({ ...runWith(['word']), name }) as RunRecord);
  const one = bundleOf([runReport(runs[0], word, true)], {});
  const two = bundleOf(
    runs.map((r) => runReport(r, word, true)),
    {},
  );
  for (const f of REPORT_FORMAT_NAMES) {
    const render = (b: typeof one) => REPORT_FORMATS[f].render(b, { colour: false, relations: false });
    assert.ok((await render(one)).includes('alpha-run'), `${f}: one run`);
    const text = await render(two);
    for (const r of runs) assert.ok(text.includes(r.name), `${f}: ${r.name}`);
  }
});

test("the terminal table's note names every metric it leaves out, from the metric table", async () => {
  const text = await REPORT_FORMATS.table.render(bundleOf([runReport(runWith(['word']), word, false)], {}), { colour: false, relations: false });
  const note = text.split('\n').find((l) => l.includes('--format json/csv'));
  for (const d of METRICS.filter((m) => !m.inTable)) assert.ok(note?.includes(d.label), `${d.label}: ${note}`);
});
