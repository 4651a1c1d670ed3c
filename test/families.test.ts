import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { generateCheckpoint } from '../src/checkpoint-gen/generate.js';
import { randomWeights } from '../src/checkpoint-gen/weights.js';
import { openDataset } from '../src/data/mlama.js';
import { readLabelIndex } from '../src/data/labels.js';
import { loadCheckpoint, type Checkpoint } from '../src/model/checkpoint.js';
import type { LukeConfig } from '../src/model/config.js';
import { CONTRACT } from '../src/model/contract.js';
import { FAMILIES, FAMILY_NAMES, type FamilyName } from '../src/model/families/index.js';
import { openSession, ort } from '../src/model/session.js';
import { languageQueries } from '../src/prompts/source.js';
import { availableStyles, loadStyle } from '../src/prompts/styles.js';
import { keysForLabels } from '../src/tokenize/entityLinker.js';
import { cli, SAMPLE_DATA, tempDir } from './support/cli.js';
import { logSoftmax, referenceForward } from './support/reference.js';

// Fast tier: the bundled sample and checkpoints generated here; no ../shared, no Python.
const ds = openDataset(SAMPLE_DATA);
const labels = readLabelIndex(ds);
const made = new Map<FamilyName, string>();
function tiny(family: FamilyName): string {
  if (!made.has(family)) {
    const out = join(tempDir('mlama-fam-'), family);
    generateCheckpoint({ family, preset: 'tiny', out, seed: 5, data: SAMPLE_DATA, entityAware: false });
    made.set(family, out);
  }
  return made.get(family)!;
}
const load = (dir: string): Checkpoint => loadCheckpoint(dir, { entityKeys: keysForLabels(labels.labels) });
/** The bundled styles a family can run: those whose head it serves and whose inputs it takes. */
const supported = (f: FamilyName) =>
  availableStyles().filter(
    (s) => FAMILIES[f].heads.includes(loadStyle(s).head) && (!loadStyle(s).entityInputs || FAMILIES[f].inputGroups.includes('entities')),
  );

test('each family declares a graph its generated checkpoint really has, with the contract names', async () => {
  for (const f of FAMILY_NAMES) {
    const ck = load(tiny(f));
    assert.equal(ck.family.name, f);
    for (const variant of ['gathered', 'naive'] as const) {
      const s = await openSession(ck, variant, { threads: 1 });
      const want = ck.manifest.graphs[variant]!;
      assert.deepEqual([...s.inputNames].filter((n) => !n.includes('.weight')).sort(), [...want.inputs].sort(), `${f} ${variant} inputs`);
      assert.deepEqual([...s.outputNames].sort(), [...want.outputs].sort(), `${f} ${variant} outputs`);
      await s.release();
    }
  }
  assert.deepEqual(load(tiny('bert')).manifest.graphs.gathered!.inputs, [
    ...CONTRACT.input_groups.words,
    'token_type_ids',
    ...CONTRACT.heads.word.gather_inputs,
  ]);
  assert.deepEqual(load(tiny('xlmr')).manifest.graphs.naive!.outputs, ['logits']);
});

test('tokenizer conventions: <s> $A </s> with ▁ for XLM-R, [CLS] $A [SEP] with ## continuations for BERT', () => {
  const x = load(tiny('xlmr')).tokenizer;
  const b = load(tiny('bert')).tokenizer;
  assert.deepEqual([x.special.bos, x.special.pad, x.special.eos, x.special.unk], [0, 1, 2, 3]);
  assert.deepEqual([b.special.pad, b.special.unk, b.special.bos, b.special.eos, b.special.mask], [0, 100, 101, 102, 103]);
  assert.equal(b.tokenOf(b.encodeSentence('x')[0]), '[CLS]');
  assert.equal(b.tokenOf(b.encodeSentence('x').at(-1)!), '[SEP]');
  assert.ok(x.encodePiece('Yokohama', true).map(x.tokenOf)[0].startsWith('▁'));
  assert.ok(!x.encodePiece('Yokohama', false).map(x.tokenOf)[0].startsWith('▁'));
  // WordPiece has no word-initial marker: a slot starts a word whether or not text precedes it.
  const pieces = b.encodePiece('Yokohama', false).map(b.tokenOf);
  assert.deepEqual(b.encodePiece('Yokohama', true), b.encodePiece('Yokohama', false));
  assert.ok(!pieces[0].startsWith('##') && pieces.slice(1).every((p) => p.startsWith('##')), pieces.join(' '));
  // Text glued to a word char continues that word; after a space, an ideograph or a [MASK] ('') it starts one.
  assert.deepEqual(b.encodePiece('は東京', false, 'トルコ').map(b.tokenOf), ['##は', '東', '京']);
  for (const after of ['', '郡', 'トルコ ']) assert.deepEqual(b.encodePiece('は東京', false, after).map(b.tokenOf), ['は', '東', '京'], after);
  assert.deepEqual(x.encodePiece('は', false, 'トルコ'), x.encodePiece('は', false), 'SentencePiece ignores the text before');
});

// Every word-only family (no entity inputs) of the registry, so that a new one is checked without an edit here.
for (const family of FAMILY_NAMES.filter((f) => !FAMILIES[f].inputGroups.includes('entities'))) {
  test(`${family}: both graphs agree with the plain TypeScript forward pass (positions ${FAMILIES[family].layout.positions})`, async () => {
    const ck = load(tiny(family));
    const weights = randomWeights(ck.config, 5);
    const naive = await openSession(ck, 'naive', { threads: 1 });
    const gathered = await openSession(ck, 'gathered', { threads: 1 });
    const qs = [...languageQueries(ds, 'ja', ck.tokenizer, null, labels, [loadStyle('word')], { fallback: true, limit: 1, relations: ['P19', 'P103'] })];
    assert.ok(qs.length === 2);
    const V = ck.config.vocab_size;
    let maxDiff = 0;
    for (const b of qs) {
      const p = b.passes.at(-1)!;
      const ref = referenceForward(
        ck.config as LukeConfig,
        weights,
        { inputIds: p.inputIds, entityIds: [], entityPositions: [] },
        FAMILIES[family].layout.positions,
      );
      const L = p.inputIds.length;
      const i64 = (a: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), dims);
      const words: Record<string, ort.Tensor> = {
        input_ids: i64(p.inputIds, [1, L]),
        attention_mask: i64(
          p.inputIds.map(() => 1),
          [1, L],
        ),
      };
      if (family === 'bert')
        words.token_type_ids = i64(
          p.inputIds.map(() => 0),
          [1, L],
        );
      const logits = (await naive.run(words)).logits.data as Float32Array;
      for (let t = 0; t < L; t++) for (let v = 0; v < V; v += 11) maxDiff = Math.max(maxDiff, Math.abs(logits[t * V + v] - ref.wordLogits[t][v]));
      const ids = [5, 200, 3000];
      const M = p.maskPositions.length;
      const out = await gathered.run({
        ...words,
        word_positions: i64(p.maskPositions, [1, M]),
        word_candidates: i64(
          p.maskPositions.flatMap(() => ids),
          [1, M, ids.length],
        ),
      });
      const lp = out.word_logprobs.data as Float32Array;
      p.maskPositions.forEach((pos, i) =>
        ids.forEach((id, j) => (maxDiff = Math.max(maxDiff, Math.abs(lp[i * ids.length + j] - logSoftmax(ref.wordLogits[pos])[id])))),
      );
    }
    await naive.release();
    await gathered.release();
    assert.ok(maxDiff < 1e-4, `max |diff| ${maxDiff}`);
  });

  test(`${family}: mlama run with every style it supports on the sample; an entity style is refused with one line before anything is scored`, async () => {
    const dir = tempDir();
    const db = join(dir, 'r.sqlite');
    const styles = supported(family);
    assert.deepEqual(styles, ['word']);
    const r = await cli(
      'run',
      '--model',
      tiny(family),
      '--data',
      SAMPLE_DATA,
      '--styles',
      styles.join(','),
      '--name',
      'ok',
      '--db',
      db,
      '--threads',
      '1',
      '--limit',
      '4',
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /run "ok" complete: (\d+)\/\1 answers stored/);
    for (const style of ['entity', 'entity-word']) {
      const bad = await cli('run', '--model', tiny(family), '--data', SAMPLE_DATA, '--styles', `word,${style}`, '--name', `bad-${style}`, '--db', db);
      assert.equal(bad.code, 2);
      const why = style === 'entity' ? `has no entity head` : 'takes no entity inputs';
      assert.equal(bad.err, `error: style "${style}" cannot run: ${tiny(family)}: family ${family} ${why} (it serves: word)\n`);
      assert.equal(bad.out, '');
    }
    const names = new Database(db, { readonly: true }).prepare('SELECT name FROM runs').all() as { name: string }[];
    assert.deepEqual(
      names.map((n) => n.name),
      ['ok'],
      'a refused run stores nothing',
    );
  });
}

test('luke: every bundled style runs; entity-word feeds the entity inputs yet ranks by the word score', async () => {
  const styles = supported('luke');
  assert.deepEqual(styles, availableStyles());
  const dir = tempDir();
  const db = join(dir, 'r.sqlite');
  const r = await cli(
    'run',
    '--model',
    tiny('luke'),
    '--data',
    SAMPLE_DATA,
    '--styles',
    styles.join(','),
    '--languages',
    'en',
    '--limit',
    '4',
    '--name',
    'all',
    '--db',
    db,
    '--threads',
    '1',
  );
  assert.equal(r.code, 0, r.err);
  const rows = new Database(db, { readonly: true }).prepare('SELECT style, subject, relation, gold_score, covered FROM results').all() as {
    style: string;
    subject: string;
    relation: string;
    gold_score: number;
    covered: number;
  }[];
  const by = (s: string) => new Map(rows.filter((x) => x.style === s).map((x) => [`${x.relation}|${x.subject}`, x]));
  const word = by('word');
  const ew = by('entity-word');
  assert.equal(ew.size, word.size);
  let differ = 0;
  for (const [k, x] of ew) {
    assert.equal(x.covered, 1, 'a word-head style ranks every candidate');
    if (Math.abs(x.gold_score - word.get(k)!.gold_score) > 1e-6) differ++;
  }
  assert.ok(differ > ew.size / 2, `the entity inputs change the word scores (${differ}/${ew.size})`);
});

test('old manifests without "family" still load: architecture "luke" is LUKE, "word-only" is XLM-R', () => {
  for (const [family, architecture] of [
    ['luke', 'luke'],
    ['xlmr', 'word-only'],
  ] as const) {
    const dir = join(tempDir(), 'ck');
    generateCheckpoint({ family, preset: 'tiny', out: dir, seed: 1, data: SAMPLE_DATA, entityAware: false });
    const m = JSON.parse(readFileSync(join(dir, CONTRACT.manifest), 'utf8'));
    delete m.family;
    assert.equal(m.architecture, architecture);
    writeFileSync(join(dir, CONTRACT.manifest), JSON.stringify(m));
    assert.equal(load(dir).family.name, family);
    m.architecture = 'gpt';
    writeFileSync(join(dir, CONTRACT.manifest), JSON.stringify(m));
    assert.throws(() => load(dir), { message: `${join(dir, CONTRACT.manifest)}: field "family" missing (or "architecture" must be "luke" or "word-only")` });
    m.family = 'gpt';
    writeFileSync(join(dir, CONTRACT.manifest), JSON.stringify(m));
    assert.throws(() => load(dir), {
      message: `${join(dir, CONTRACT.manifest)}: field "family": unknown model family "gpt"; known: ${FAMILY_NAMES.join(', ')}`,
    });
  }
});

test('make-checkpoint --family: an unknown family and --entity-aware on a word-only family are refused in one line', async () => {
  const out = join(tempDir(), 'ck');
  const r = await cli('make-checkpoint', '--family', 'gpt2', '--out', out);
  assert.equal(r.code, 2);
  assert.equal(r.err, `error: --family: unknown model family "gpt2"; available: ${FAMILY_NAMES.join(', ')}\n`);
  const e = await cli('make-checkpoint', '--family', 'bert', '--entity-aware', '--out', out);
  assert.equal(e.err, 'error: --entity-aware: family bert has no entity inputs\n');
  assert.ok(!existsSync(join(out, CONTRACT.manifest)));
});

test('FLOP counts per family, by hand for tiny sizes (H 64, 2 layers, I 128)', () => {
  const pass = (L: number, E: number, masks: number) => ({
    inputIds: Array(L).fill(5),
    maskPositions: Array.from({ length: masks }, (_, i) => i + 1),
    entityIds: Array(E).fill(2),
    entityPositions: [],
    candidates: [],
  });
  const word = { hidden_size: 64, num_hidden_layers: 2, intermediate_size: 128, vocab_size: 8002 } as LukeConfig;
  // Encoder over 10 tokens: the first layer 2*10*64*64*4 + 4*10*64*128 + 4*10*10*64 = 680,960; the last one only
  // where the head reads (one mask row) past its keys and values: 2*10*64*64*2 + 2*1*64*64*2 + 4*1*64*128 + 4*1*10*64
  // = 215,552. Word head at one mask: 2*64*64 + 2*64*8002.
  for (const f of ['xlmr', 'bert'] as const) assert.equal(FAMILIES[f].passFlops(word, 'word', pass(10, 0, 1)), 680_960 + 215_552 + 1_032_448);
  // Three masks: the last layer reads three rows (2*10*64*64*2 + 3*(2*64*64*2 + 4*64*128 + 4*10*64) = 318,976).
  assert.equal(FAMILIES.xlmr.passFlops(word, 'word', pass(10, 0, 3)), 680_960 + 318_976 + 3 * 1_032_448);
  // LUKE, 10 words + 2 entities: (2*12*64*64*4 + 4*12*64*128 + 4*144*64) + the last layer at the object slot only
  // (2*12*64*64*2 + 2*64*64*2 + 4*64*128 + 4*12*64) + 2*2*32*64 (entity dense) + 2*64*32 + 2*32*366 (entity head).
  const luke = { ...word, entity_emb_size: 32, entity_vocab_size: 366, use_entity_aware_attention: false };
  assert.equal(FAMILIES.luke.passFlops(luke, 'entity', pass(10, 2, 1)), 823_296 + 248_832 + 8_192 + 4_096 + 23_424);
  // Entity-aware attention: a second query projection per token (2 x 2*12*64*64 more), but only where entities
  // are fed; a word-only pass runs plain self-attention, as the words graph and transformers without entities do.
  const aware = { ...luke, use_entity_aware_attention: true };
  // (2*12*64*64 more in the first layer, 2*1*64*64 in the last).
  assert.equal(FAMILIES.luke.passFlops(aware, 'entity', pass(10, 2, 1)), 823_296 + 98_304 + 248_832 + 8_192 + 8_192 + 4_096 + 23_424);
  assert.equal(FAMILIES.luke.passFlops(aware, 'word', pass(10, 0, 1)), 680_960 + 215_552 + 1_032_448);
});
