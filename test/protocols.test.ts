import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDataset } from '../src/data/mlama.js';
import { readLabelIndex } from '../src/data/labels.js';
import { loadCheckpoint } from '../src/model/checkpoint.js';
import { languageQueries, selectedSets } from '../src/prompts/source.js';
import { loadStyle } from '../src/prompts/styles.js';
import {
  authorsPrecision,
  authorsQuestions,
  mlamaPrecision,
  protocolMetricLines,
  protocolMetrics,
  scriptCrashes,
  type ProtocolRow,
} from '../src/report/protocolMetrics.js';
import { runDifferences } from '../src/run/config.js';
import { selectionOf } from '../src/run/context.js';
import { PROTOCOLS } from '../src/run/protocols.js';
import { keysForLabels } from '../src/tokenize/entityLinker.js';
import { cli, SAMPLE_DATA, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { assertSameRows, storedRun } from './support/rows.js';

const ck = tinyCheckpoint(1, true, SAMPLE_DATA);
const KNOWN_ANSWER = join(import.meta.dirname, '..', 'datasets', 'known-answer');
const run = (db: string, ...args: string[]) => cli('run', '--data', SAMPLE_DATA, '--model', ck, '--threads', '1', '--db', db, ...args);

test('--protocol paper is the default: it stores the same answers as a run without it, and the run and its report name it', async () => {
  const db = join(tempDir(), 'paper.sqlite');
  assert.equal((await run(db, '--limit', '3', '--name', 'plain')).code, 0);
  const r = await run(db, '--limit', '3', '--name', 'paper', '--protocol', 'paper');
  assert.equal(r.code, 0, r.err);
  const a = storedRun(db, 'plain');
  const b = storedRun(db, 'paper');
  assert.ok(a.rows.length > 0);
  assertSameRows(a.rows, b.rows);
  assert.ok(b.rows.every((x) => x.top.length <= 10));
  const rep = await cli('report', '--run', 'paper', '--db', db);
  assert.equal(rep.code, 0, rep.err);
  assert.match(rep.out, /^protocol: paper \(/m);
  // Runs of one protocol compare; a run stored before protocols existed ran the paper's.
  assert.equal((await cli('compare', 'plain', 'paper', '--db', db)).code, 0);
});

test('--protocol mlama runs the word style and its report prints P@1 per relation then language', async () => {
  const db = join(tempDir(), 'mlama.sqlite');
  const r = await run(db, '--limit', '2', '--languages', 'en', '--name', 'm', '--protocol', 'mlama');
  assert.equal(r.code, 0, r.err);
  const { rows } = storedRun(db, 'm');
  assert.deepEqual([...new Set(rows.map((x) => x.style))], ['word']);
  const rep = await cli('report', '--run', 'm', '--db', db);
  assert.match(rep.out, /^mlama word en: P@1 [\d.]+ averaged over \d+ relations$/m);
});

test('runs under different protocols are not comparable; a run stored without one is the paper', () => {
  const at = (options: Record<string, unknown>) => ({ options, checkpoint: {}, dataset: {} });
  assert.deepEqual(runDifferences('compare', at({ protocol: 'paper' }), at({ protocol: 'authors-script' })), ['protocol: "paper" vs "authors-script"']);
  assert.deepEqual(runDifferences('merge', at({}), at({ protocol: 'paper' })), []);
  assert.deepEqual(runDifferences('resume', at({}), at({ protocol: 'mlama' })), ['protocol: "paper" vs "mlama"']);
});

function built(protocol: 'paper' | 'authors-script' | 'mlama', lang: string) {
  const ds = openDataset(SAMPLE_DATA);
  const labels = readLabelIndex(ds);
  const c = loadCheckpoint(ck, { entityKeys: keysForLabels(labels.labels) });
  const sel = selectionOf({ fallback: false, templates: 'main', protocol });
  return { tok: c.tokenizer, queries: [...languageQueries(ds, lang, c.tokenizer, c.entityVocab, labels, [loadStyle('word')], sel)] };
}

test('authors-script: every template piece, the subject and each candidate is tokenized alone, each starting a word', () => {
  const { tok, queries } = built('authors-script', 'ja');
  const paper = built('paper', 'ja').queries;
  let changed = 0;
  queries.forEach((b, i) => {
    for (const t of b.relation.candidates.tokens) assert.ok(tok.tokenOf(t[0]).startsWith('▁'), b.relation.candidates.labels.join());
    // The subject's positions are those of the last pass (the longest mask run).
    const ids = b.passes.at(-1)!.inputIds;
    assert.ok(tok.tokenOf(ids[b.subjectPositions[0]]).startsWith('▁'), b.query.subject);
    // Every run of text between <s>, the slots and </s> starts a word.
    const slots = new Set([...b.subjectPositions, ...b.passes.at(-1)!.maskPositions]);
    for (let p = 1; p < ids.length - 1; p++) if (!slots.has(p) && slots.has(p - 1)) assert.ok(tok.tokenOf(ids[p]).startsWith('▁'), `${b.query.template} ${p}`);
    if (JSON.stringify(paper[i].passes) !== JSON.stringify(b.passes)) changed++;
  });
  // ja templates glue text to the slots ("[Y]は[X]の"): the in-context tokens differ there.
  assert.ok(changed > 0);
});

test('mlama: candidates alone, the sentence in context', () => {
  const { tok, queries } = built('mlama', 'ja');
  const paper = built('paper', 'ja').queries;
  queries.forEach((b, i) => {
    for (const t of b.relation.candidates.tokens) assert.ok(tok.tokenOf(t[0]).startsWith('▁'));
    assert.deepEqual(b.relation.template.pieces, paper[i].relation.template.pieces);
  });
});

test('--protocol authors-script runs its styles (entity ranked by the word score) and keeps the top 100 for its P@100', async () => {
  const db = join(tempDir(), 'authors.sqlite');
  const r = await run(db, '--languages', 'en,ja', '--name', 'a', '--protocol', 'authors-script');
  assert.equal(r.code, 0, r.err);
  const { rows } = storedRun(db, 'a');
  assert.deepEqual([...new Set(rows.map((x) => x.style))].sort(), [...PROTOCOLS['authors-script'].styles].sort());
  assert.ok(rows.every((x) => x.top.length === Math.min(100, x.candidates)));
  const rep = await cli('report', '--run', 'a', '--db', db);
  assert.match(rep.out, /^protocol: authors-script \(/m);
  assert.match(rep.out, /^authors-script entity-word ja: P@1 [\d.]+ P@5 [\d.]+ P@10 [\d.]+ P@100 [\d.]+ over \d+ question strings/m);
  // The P@k printed equals the script's own procedure replayed on the stored lists: an entry below rank 100 of its
  // own list has 100 entries ahead of it in the script's list too, so the top 100 decide every k up to 100.
  for (const m of authorsPrecision(rows, [1, 5, 10, 100]))
    assert.deepEqual(m.p, replayed(rows.filter((x) => x.style === m.style && x.language === m.language)), `${m.style} ${m.language}`);
  const c = await cli('compare', 'a', 'a', '--db', db);
  assert.equal(c.code, 0, c.err);
});

/** The script's loop as it reads: per triple, the answer overwritten and every candidate appended; then a stable sort. */
function replayed(rows: ProtocolRow[]): Record<number, number> {
  const results = new Map<string, { answer: string; candidates: [string, number][] }>();
  for (const r of rows)
    for (const g of r.golds) {
      const q = r.template.replace('[X]', r.subject);
      const e = results.get(q) ?? { answer: g, candidates: [] };
      e.answer = g;
      e.candidates.push(...r.top.map((t): [string, number] => [t.label, t.score]));
      results.set(q, e);
    }
  const p: Record<number, number> = {};
  for (const k of [1, 5, 10, 100]) {
    let hits = 0;
    for (const e of results.values())
      if (
        new Set(
          [...e.candidates]
            .sort((a, b) => b[1] - a[1])
            .slice(0, k)
            .map((c) => c[0]),
        ).has(e.answer)
      )
        hits++;
    p[k] = hits / results.size;
  }
  return p;
}

const row = (relation: string, template: string, subject: string, golds: string[], top: [string, number][], lineids = golds.map((_, i) => i)): ProtocolRow => ({
  language: 'en',
  relation,
  template,
  subject,
  style: 'word',
  golds,
  lineids,
  top: top.map(([label, score]) => ({ label, score })),
  candidates: top.length,
});

/** Four candidates, best first, one point apart. */
const top: [string, number][] = [
  ['A', -1],
  ['B', -2],
  ['C', -3],
  ['D', -4],
];

test('authors-script P@k: keyed by question string across relations, candidates appended per triple, the last triple wins', () => {
  // Two triples of one subject: every candidate appears twice, so C (third) stands at 5 and D at 7.
  const [two] = authorsPrecision([row('P1', '[X] in [Y].', 's', ['A', 'C'], top, [1, 2])], [1, 5, 6]);
  assert.deepEqual(two.p, { 1: 0, 5: 1, 6: 1 });
  // A second relation with the same template and subject is the same question; its last gold is the answer.
  const merged = authorsPrecision([row('P1', '[X] in [Y].', 's', ['A'], top, [1]), row('P2', '[X] in [Y].', 's', ['B'], top, [1])], [1, 3, 4], ['P1', 'P2']);
  assert.equal(merged.length, 1);
  assert.equal(merged[0].questions, 1);
  // B: ahead of it A twice (once per relation's triple), so B stands at 3.
  assert.deepEqual(merged[0].p, { 1: 0, 3: 1, 4: 1 });
  // Beyond the stored top list the answer is a miss at every k.
  assert.deepEqual(authorsPrecision([row('P1', '[X] in [Y].', 's', ['Z'], top)], [1, 100])[0].p, { 1: 0, 100: 0 });
});

test('authors-script ranks: a label the candidate file lists twice counts twice; a row whose stored candidates all outscore the answer puts it past them', () => {
  const repeated = row('P1', '[X] in [Y].', 's', ['D'], top);
  repeated.top[2].copies = 2;
  // A, B, C, C, D: the script's list holds C twice, so D stands at 5, not 4.
  assert.deepEqual(authorsPrecision([repeated], [4, 5])[0].p, { 4: 0, 5: 1 });
  // A relation with 300 candidates, two stored and both above the answer another relation reads last.
  const big = { ...row('P19', '[X] in [Y].', 's', ['A'], top.slice(0, 2)), candidates: 300 };
  const small = row('place_of_birth', '[X] in [Y].', 's', ['E'], [['E', -5]]);
  const [past] = authorsQuestions([big, small], ['P19', 'place_of_birth']);
  assert.equal(past.answer, 'E');
  assert.equal(past.rank, Number.POSITIVE_INFINITY);
  assert.deepEqual(past.top1, { label: 'A', score: -1 });
  // Every candidate stored: the two above it are all there are.
  assert.equal(authorsQuestions([{ ...big, candidates: 2 }, small], ['P19', 'place_of_birth'])[0].rank, 3);
});

test('authors-script ranks: an exact tie keeps the reading order, rows read earlier and candidates listed earlier first', () => {
  // C scores exactly as B does, and D a point lower.
  const tiedTop: [string, number][] = [top[0], top[1], ['C', -2], ['D', -3]];
  const [c] = authorsQuestions([row('P1', '[X] in [Y].', 's', ['C'], tiedTop)]);
  assert.deepEqual([c.rank, c.bestRank, c.tiedWith], [3, 2, 1]);
  const [b] = authorsQuestions([row('P1', '[X] in [Y].', 's', ['B'], tiedTop)]);
  assert.deepEqual([b.rank, b.bestRank, b.tiedWith], [2, 2, 1]);
  // A tie in a relation read earlier stands before the answer whatever its place in that row.
  const earlier = row('P0', '[X] in [Y].', 's', ['Z'], [['E', -2]]);
  const [e] = authorsQuestions([earlier, row('P1', '[X] in [Y].', 's', ['B'], tiedTop)], ['P0', 'P1']);
  assert.deepEqual([e.answer, e.rank, e.bestRank, e.tiedWith], ['B', 3, 2, 2]);
});

test('mlama P@1: one query per triple with the other golds competing, per relation then language, date relations skipped', () => {
  const [m] = mlamaPrecision([
    row(
      'P1',
      '[X] in [Y].',
      's',
      ['A', 'B'],
      [
        ['A', -1],
        ['B', -2],
      ],
    ),
    row('P1', '[X] in [Y].', 't', ['A'], [['A', -1]]),
    row(
      'P2',
      '[X] of [Y].',
      's',
      ['C'],
      [
        ['A', -1],
        ['C', -2],
      ],
    ),
    row('date_of_birth', '[X] born [Y].', 's', ['A'], [['A', -1]]),
  ]);
  assert.deepEqual(m.relations, { P1: { triples: 3, p1: 2 / 3 }, P2: { triples: 1, p1: 0 } });
  assert.equal(m.p1, 1 / 3);
  assert.deepEqual(m.skipped, ['date_of_birth']);
});

test("scriptCrashes counts the triples under [Y]-before-[X] templates the authors' script stops on", () => {
  const ds = openDataset(SAMPLE_DATA);
  const ja = scriptCrashes(selectedSets(ds, 'ja', { fallback: false }));
  const triples = [...selectedSets(ds, 'ja', { fallback: false })]
    .filter((s) => s.template.text.indexOf('[Y]') < s.template.text.indexOf('[X]'))
    .reduce((n, s) => n + s.triples, 0);
  assert.ok(triples > 0);
  assert.equal(ja.yBeforeX, triples);
  assert.equal(scriptCrashes(selectedSets(ds, 'en', { fallback: false })).yBeforeX, 0);
});

test("authors-script: each piece alone is what transformers' MLukeTokenizer gives where it cuts at the same places (the subject's entity span)", () => {
  // The parity fixture: inputs written by transformers' MLukeTokenizer with entity_spans, which cuts the sentence
  // at the subject and the mask run and tokenizes each piece on its own, as the authors' script does every piece.
  const dir = join(import.meta.dirname, 'fixtures', 'parity');
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
    limit: number;
    families: { luke: { inputs: Record<string, { input_ids: number[]; entity_ids: number[] }[]> } };
  };
  const ds = openDataset(SAMPLE_DATA);
  const labels = readLabelIndex(ds);
  const c = loadCheckpoint(join(dir, 'luke'), { entityKeys: keysForLabels(labels.labels) });
  const sel = { ...selectionOf({ fallback: false, templates: 'main', protocol: 'authors-script' }), limit: expected.limit };
  let compared = 0;
  for (const lang of ds.languages)
    for (const b of languageQueries(ds, lang, c.tokenizer, c.entityVocab, labels, [loadStyle('entity')], sel)) {
      const want = expected.families.luke.inputs[['entity', lang, b.query.relation, b.query.template, b.query.subject].join('|')];
      if (!want || want[0].entity_ids.length < 2) continue;
      assert.deepEqual(
        b.passes.map((p) => p.inputIds),
        want.map((w) => w.input_ids),
        `${lang} ${b.query.template} ${b.query.subject}`,
      );
      compared++;
    }
  assert.ok(compared >= 10, String(compared));
});

test("prompts --protocol shows the tokens each protocol builds (the issue's ja P30 example)", async () => {
  const args = ['prompts', '--data', SAMPLE_DATA, '--model', KNOWN_ANSWER, '--language', 'ja', '--relation', 'P30', '--style', 'word', '--limit', '1'];
  const paper = await cli(...args);
  const authors = await cli(...args, '--protocol', 'authors-script');
  assert.equal(authors.code, 0, authors.err);
  assert.match(paper.out, /tokens <s> ▁トルコ は <mask> <mask> の 大陸/);
  assert.match(authors.out, /tokens <s> ▁トルコ ▁は <mask> <mask> ▁ の 大陸/);
  assert.match((await cli(...args, '--protocol', 'lama')).err, /--protocol must be paper, authors-script, mlama, got "lama"/);
});

test("the protocols' own numbers read main-template answers only, as both scripts read templates.jsonl alone", () => {
  const main = row('P1', '[X] in [Y].', 's', ['A'], [top[0]]);
  const paraphrase = { ...row('P1', '[X] lies in [Y].', 's', ['B'], [top[0]]), template_main: false };
  assert.equal(protocolMetrics(PROTOCOLS['authors-script'], [main, paraphrase])!.authors![0].p[1], 1);
  assert.equal(protocolMetrics(PROTOCOLS.mlama, [main, paraphrase])!.mlama![0].p1, 1);
  assert.equal(protocolMetrics(PROTOCOLS.paper, [main]), undefined);
});

test("a preset's numbers from a run an earlier release stored say what that release counted otherwise", () => {
  const rows = [row('P1', '[X] in [Y].', 's', ['A'], top)];
  const old = protocolMetrics(PROTOCOLS['authors-script'], rows, '0.1.0')!;
  assert.equal(old.notes?.length, 1);
  assert.match(protocolMetricLines(old).at(-1)!, /^note: stored by mlama-harness 0\.1\.0: a candidate the file lists twice counts once/);
  assert.match(protocolMetrics(PROTOCOLS.mlama, rows, '0.1.9')!.notes![0], /WordPiece \(BERT\) model the sentence was built in context/);
  for (const now of ['0.2.0', '0.10.0', '1.0.0', undefined]) assert.equal(protocolMetrics(PROTOCOLS['authors-script'], rows, now)!.notes, undefined, now);
  assert.equal(protocolMetrics(PROTOCOLS.paper, rows, '0.1.0'), undefined);
});
