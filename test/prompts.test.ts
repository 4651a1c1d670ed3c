// tier: full (needs ../shared)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDataset, readLanguage } from '../src/data/mlama.js';
import { readLabelIndex } from '../src/data/labels.js';
import { loadCheckpoint } from '../src/model/checkpoint.js';
import { buildQuery, prepareRelation, prepareTemplate } from '../src/prompts/build.js';
import { availableStyles, loadStyle } from '../src/prompts/styles.js';
import { languageQueries } from '../src/prompts/source.js';
import { entityLinker, keysForLabels } from '../src/tokenize/entityLinker.js';
import { loadTokenizer } from '../src/tokenize/tokenizer.js';
import { BUNDLED_TOKENIZER } from '../src/checkpoint-gen/generate.js';
import { SHARED_DATA, cli } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';

const ds = openDataset(SHARED_DATA);
const labels = readLabelIndex(ds);
const ck = loadCheckpoint(tinyCheckpoint(), { entityKeys: keysForLabels(labels.labels) });
const tok = ck.tokenizer;
const vocab = ck.entityVocab!;
const word = loadStyle('word');
const entity = loadStyle('entity');
const ent = { link: entityLinker(vocab, labels, true), maskId: vocab.special.mask! };
const toks = (ids: number[]) => ids.map(tok.tokenOf);

function relation(lang: string, rel: string) {
  const [set] = [...readLanguage(ds, lang, { relations: [rel] })];
  return prepareRelation(set, tok, ent.link);
}

test('the test tokenizer is XLM-R shaped and covers every script of the 10 languages', () => {
  const t = loadTokenizer(BUNDLED_TOKENIZER);
  assert.deepEqual(t.special, { bos: 0, pad: 1, eos: 2, unk: 3, mask: 8001 });
  let pieces = 0;
  for (const lang of ds.languages) {
    for (const set of readLanguage(ds, lang)) {
      for (const c of set.candidates.slice(0, 50)) {
        const ids = t.encodePiece(c.label, true);
        pieces += ids.length;
        assert.ok(!ids.includes(t.special.unk), `${lang} ${c.label} has <unk>`);
      }
    }
  }
  assert.ok(pieces > 10000);
});

test('en P19: subject tokens, N masks, </s>; positions count <s> as 0', () => {
  const rel = relation('en', 'P19');
  const q = rel.set.queries.find((x) => x.subject === 'Allan Peiper')!;
  const b = buildQuery(rel, q, word, tok, ent);
  const one = b.passes.find((p) => p.maskPositions.length === 1)!;
  assert.deepEqual(toks(one.inputIds), [
    '<s>',
    ...toks(tok.encodePiece('Allan Peiper', true)),
    ...toks(tok.encodePiece(' was born in', false)),
    '<mask>',
    '▁',
    '.',
    '</s>',
  ]);
  assert.deepEqual(
    b.subjectPositions,
    Array.from({ length: tok.encodePiece('Allan Peiper', true).length }, (_, i) => i + 1),
  );
  assert.equal(one.inputIds[one.maskPositions[0]], tok.special.mask);
  // Candidates after "in " take the word-initial piece.
  assert.deepEqual(toks(rel.candidates.tokens[rel.candidates.labels.indexOf('Paris')]), ['▁Paris']);
  // Every candidate is in exactly one length group, whose pass has that many masks.
  const seen = b.passes.flatMap((p) => p.candidates.map((c) => [c, p.maskPositions.length]));
  assert.equal(seen.length, rel.candidates.labels.length);
  for (const [c, n] of seen) assert.equal(rel.candidates.tokens[c].length, n);
});

test('ja P103 puts [Y] before [X]: masks first, the subject continues after は without ▁', () => {
  const rel = relation('ja', 'P103');
  assert.equal(rel.template.first, 'Y');
  const q = rel.set.queries[0];
  const b = buildQuery(rel, q, entity, tok, ent);
  const p = b.passes[0];
  assert.deepEqual(
    p.maskPositions,
    Array.from({ length: p.maskPositions.length }, (_, i) => i + 1),
  );
  const subj = toks(b.subjectPositions.map((i) => p.inputIds[i]));
  assert.ok(!subj[0].startsWith('▁'), `subject continues the word: ${subj}`);
  assert.equal(tok.tokenOf(p.inputIds[p.maskPositions.length + 1]), 'は');
  // The object [MASK] entity spans the masks; the candidate at sentence start is word-initial.
  assert.equal(p.entityIds[0], vocab.special.mask);
  assert.deepEqual(p.entityPositions[0], p.maskPositions);
  assert.ok(toks(rel.candidates.tokens[rel.candidates.labels.indexOf('日本語')])[0].startsWith('▁'));
});

test('in-context candidates: ja "[X] は[Y]の..." gives no ▁ to the object, zh likewise', () => {
  const rel = relation('ja', 'P101');
  assert.ok(rel.set.template.text.includes('は[Y]'));
  for (const t of rel.candidates.tokens.slice(0, 30)) assert.ok(!tok.tokenOf(t[0]).startsWith('▁'), toks(t).join(' '));
  const tpl = prepareTemplate('[X]的母语是[Y]', tok);
  assert.deepEqual(tpl.slots.Y, { leading: '', initial: false, after: '的母语是' });
});

test('Arabic template: right-to-left text, the structure holds', () => {
  const rel = relation('ar', 'P19');
  const b = buildQuery(rel, rel.set.queries[0], entity, tok, ent);
  for (const p of b.passes) {
    assert.equal(p.inputIds[0], tok.special.bos);
    assert.equal(p.inputIds.at(-1), tok.special.eos);
    assert.ok(p.maskPositions.every((i) => p.inputIds[i] === tok.special.mask));
    assert.ok(b.subjectPositions.every((i) => p.inputIds[i] !== tok.special.mask));
  }
});

test('multi-token group: the scorer input for a 3-token candidate has 3 masks and its tokens in order', () => {
  const rel = relation('en', 'P19');
  const g = rel.candidates.groups.find((x) => x.length === 3)!;
  assert.ok(g.members.length > 0);
  const b = buildQuery(rel, rel.set.queries[0], word, tok, ent);
  const p = b.passes.find((x) => x.maskPositions.length === 3)!;
  assert.deepEqual(p.candidates, g.members);
});

test('subject entity when found, omitted when not; mask option puts [MASK] at the subject', () => {
  const rel = relation('en', 'P19');
  let found = 0;
  let missing = 0;
  for (const q of rel.set.queries.slice(0, 200)) {
    const b = buildQuery(rel, q, entity, tok, ent);
    if (b.subjectEntity?.id != null) {
      found++;
      assert.equal(b.passes[0].entityIds.length, 2);
      assert.deepEqual(b.passes[0].entityPositions[1], b.subjectPositions);
    } else {
      missing++;
      assert.equal(b.passes[0].entityIds.length, 1);
    }
  }
  assert.ok(found > 0 && missing > 0, `found ${found} missing ${missing}`);
  const masked = buildQuery(rel, rel.set.queries[0], { ...entity, subjectEntity: 'mask' }, tok, ent);
  assert.deepEqual(masked.passes[0].entityIds, [vocab.special.mask, vocab.special.mask]);
});

test('a candidate found only through the Wikidata-id fallback', () => {
  const rel = relation('ja', 'P36');
  const noFallback = entityLinker(vocab, labels, false);
  const i = rel.candidates.entities.findIndex((e) => e.via === 'fallback');
  assert.ok(i >= 0, 'some ja P36 candidate needs the fallback');
  const c = rel.set.candidates[i];
  assert.equal(noFallback('ja', c.label, c.uri).id, null);
  assert.equal(rel.candidates.entities[i].id, vocab.get(rel.candidates.entities[i].key!));
  assert.ok(!rel.candidates.entities[i].key!.startsWith('ja:'));
});

test('entity coverage per language, with and without the fallback', () => {
  const lines: string[] = [];
  for (const lang of ds.languages) {
    const cov = [true, false].map((fallback) => {
      let covered = 0;
      let n = 0;
      for (const b of languageQueries(ds, lang, tok, vocab, labels, [entity], { fallback })) {
        n++;
        covered += +b.covered;
      }
      return covered / n;
    });
    assert.ok(cov[0] > cov[1], `${lang}: the fallback finds more (${cov})`);
    lines.push(`${lang} ${(100 * cov[1]).toFixed(1)}% -> ${(100 * cov[0]).toFixed(1)}%`);
  }
  console.log(`# entity coverage without -> with fallback: ${lines.join(', ')}`);
});

test('building every en query tokenizes candidates once per relation (queries per second printed)', () => {
  const t0 = performance.now();
  let n = 0;
  let passes = 0;
  for (const b of languageQueries(ds, 'en', tok, vocab, labels, [word], { fallback: true })) {
    n++;
    passes += b.passes.length;
  }
  const s = (performance.now() - t0) / 1000;
  console.log(`# built ${n} en queries (${passes} passes) in ${s.toFixed(2)} s: ${(n / s).toFixed(0)} queries/s`);
  assert.equal(n, 31474);
});

test('mlama prompts shows a query readably', async () => {
  const r = await cli(
    'prompts',
    '--data',
    SHARED_DATA,
    '--model',
    tinyCheckpoint(),
    '--language',
    'ja',
    '--relation',
    'P103',
    '--style',
    'entity',
    '--limit',
    '2',
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /template "\[Y\]は\[X\]の母語です"/);
  assert.match(r.out, /entities 2@\[1/);
  const bad = await cli('prompts', '--data', SHARED_DATA, '--model', tinyCheckpoint(), '--language', 'ja', '--style', 'nope');
  assert.equal(bad.code, 2);
  assert.ok(bad.err.includes(`unknown prompt style "nope"; available: ${availableStyles().join(', ')} `), bad.err);
  for (const s of ['word', 'entity', 'entity-nosubj']) assert.ok(availableStyles().includes(s), s);
});

test('a language built with its pieces remembered equals one built relation by relation, each distinct piece tokenized once', () => {
  const seen = new Map<string, number>();
  const counting = {
    ...tok,
    encodePiece: (text: string, initial: boolean, after = '') => {
      const key = `${initial}|${after}|${text}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      return tok.encodePiece(text, initial, after);
    },
  };
  const remembered = [...languageQueries(ds, 'ja', counting, vocab, labels, [word, entity], { fallback: true })];
  assert.ok(remembered.length > 1000);
  assert.ok(
    [...seen.values()].every((n) => n === 1),
    'a piece was tokenized twice',
  );
  let freshCalls = 0;
  const plain = { ...tok, encodePiece: (text: string, initial: boolean, after?: string) => (freshCalls++, tok.encodePiece(text, initial, after)) };
  const fresh = [...readLanguage(ds, 'ja')].flatMap((set) => {
    const rel = prepareRelation(set, plain, ent.link);
    return set.queries.flatMap((q) => [word, entity].map((s) => buildQuery(rel, q, s, plain, ent)));
  });
  assert.equal(remembered.length, fresh.length);
  remembered.forEach((b, i) => {
    assert.deepEqual(
      b.passes.map((p) => [p.inputIds, p.entityIds, p.candidates]),
      fresh[i].passes.map((p) => [p.inputIds, p.entityIds, p.candidates]),
      b.query.key,
    );
    assert.deepEqual(b.golds, fresh[i].golds);
  });
  // Subjects and objects recur across a language's relations (and a subject across styles): fewer calls than without memory.
  assert.ok(seen.size < freshCalls * 0.6, `${seen.size} distinct pieces of ${freshCalls} calls`);
});
