// tier: full (needs ../shared)
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDataset } from '../src/data/mlama.js';
import { readLabelIndex } from '../src/data/labels.js';
import { loadCheckpoint, type Checkpoint } from '../src/model/checkpoint.js';
import type { LukeConfig } from '../src/model/config.js';
import { randomWeights } from '../src/checkpoint-gen/weights.js';
import { openSession, ort, type ModelSession } from '../src/model/session.js';
import { scoreQueries, rank, type ScoredQuery } from '../src/model/scorer.js';
import type { BuiltQuery, Pass } from '../src/prompts/build.js';
import { loadStyle } from '../src/prompts/styles.js';
import { languageQueries } from '../src/prompts/source.js';
import { keysForLabels } from '../src/tokenize/entityLinker.js';
import { cli, SHARED_DATA, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { logSoftmax, referenceForward } from './support/reference.js';

const ds = openDataset(SHARED_DATA);
const labels = readLabelIndex(ds);
const styles = [loadStyle('word'), loadStyle('entity')];

/** These tests use LUKE checkpoints: their config has the entity fields. */
function load(dir: string): Checkpoint & { config: LukeConfig } {
  return loadCheckpoint(dir, { entityKeys: keysForLabels(labels.labels) }) as Checkpoint & { config: LukeConfig };
}

function sample(ck: Checkpoint, langs: string[], perRelation: number, relations?: string[]): BuiltQuery[] {
  return langs.flatMap((l) => [...languageQueries(ds, l, ck.tokenizer, ck.entityVocab, labels, styles, { fallback: true, limit: perRelation, relations })]);
}

const i64 = (a: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), dims);

/** Feeds for one pass, batch 1, written out plainly (independent of the scorer's batching code). */
function naiveFeeds(ck: Checkpoint, p: Pass) {
  const E = Math.max(1, p.entityIds.length);
  const P = Math.max(1, ...p.entityPositions.map((x) => x.length));
  const ids = p.entityIds.length ? p.entityIds : [ck.entityVocab!.special.pad!];
  const pos = Array.from({ length: E }, (_, e) => Array.from({ length: P }, (_, k) => p.entityPositions[e]?.[k] ?? -1)).flat();
  return {
    input_ids: i64(p.inputIds, [1, p.inputIds.length]),
    attention_mask: i64(
      p.inputIds.map(() => 1),
      [1, p.inputIds.length],
    ),
    entity_ids: i64(ids, [1, E]),
    entity_attention_mask: i64(p.entityIds.length ? p.entityIds.map(() => 1) : [0], [1, E]),
    entity_token_type_ids: i64(
      ids.map(() => 0),
      [1, E],
    ),
    entity_position_ids: i64(pos, [1, E, P]),
  };
}

/** The straightforward reference ranking: full logits from the naive graph, log-softmax and means in JS. */
async function referenceScores(ck: Checkpoint & { config: LukeConfig }, naive: ModelSession, b: BuiltQuery): Promise<ScoredQuery> {
  const scores = new Float64Array(b.relation.candidates.labels.length).fill(-Infinity);
  const V = ck.config.vocab_size;
  const Ne = ck.config.entity_vocab_size;
  for (const p of b.passes) {
    const out = await naive.run(naiveFeeds(ck, p));
    if (b.style.head === 'word') {
      const logits = out.logits.data as Float32Array;
      const lp = p.maskPositions.map((pos) => logSoftmax(logits.subarray(pos * V, (pos + 1) * V)));
      for (const c of p.candidates) scores[c] = b.relation.candidates.tokens[c].reduce((s, t, i) => s + lp[i][t], 0) / p.maskPositions.length;
    } else {
      const lp = logSoftmax((out.entity_logits.data as Float32Array).subarray(0, Ne));
      for (const c of p.candidates) {
        const id = b.relation.candidates.entities[c].id;
        if (id !== null) scores[c] = lp[id];
      }
    }
  }
  return rank({ built: b, scores }, 10);
}

async function scoreAll(
  session: ModelSession,
  ck: Checkpoint & { config: LukeConfig },
  qs: BuiltQuery[],
  batchSize: number,
  headBudget?: number,
): Promise<Map<string, ScoredQuery>> {
  const out = new Map<string, ScoredQuery>();
  const headWidths = { word: ck.config.vocab_size, entity: ck.config.entity_vocab_size };
  for await (const batch of scoreQueries(session, qs, { batchSize, headBudget, headWidths, padEntityId: ck.entityVocab!.special.pad! }))
    for (const s of batch) out.set(`${s.built.style.name}|${s.built.query.key}`, s);
  return out;
}

for (const entityAware of [false, true]) {
  test(`both ONNX variants agree with the plain TypeScript forward pass within 1e-4 (entity-aware ${entityAware})`, async () => {
    const dir = tinyCheckpoint(3, entityAware);
    const ck = load(dir);
    const weights = randomWeights(ck.config, 3);
    const naive = await openSession(ck, 'naive', { threads: 1 });
    const gathered = await openSession(ck, 'gathered', { threads: 1 });
    const qs = sample(ck, ['en', 'ja', 'ar'], 1, ['P19', 'P103', 'P36']).filter((b) => b.style.head === 'word' || b.passes[0].entityIds.length === 2);
    assert.ok(qs.length >= 6);
    let maxDiff = 0;
    for (const b of qs) {
      const p = b.passes[b.passes.length - 1];
      const ref = referenceForward(ck.config, weights, {
        inputIds: p.inputIds,
        entityIds: p.entityIds.length ? p.entityIds : [],
        entityPositions: p.entityPositions,
      });
      const out = await naive.run(naiveFeeds(ck, p));
      const logits = out.logits.data as Float32Array;
      const V = ck.config.vocab_size;
      for (let t = 0; t < p.inputIds.length; t++)
        for (let v = 0; v < V; v += 7) maxDiff = Math.max(maxDiff, Math.abs(logits[t * V + v] - ref.wordLogits[t][v]));
      if (p.entityIds.length) {
        const el = out.entity_logits.data as Float32Array;
        for (let e = 0; e < p.entityIds.length; e++)
          for (let v = 0; v < ck.config.entity_vocab_size; v += 3)
            maxDiff = Math.max(maxDiff, Math.abs(el[e * ck.config.entity_vocab_size + v] - ref.entityLogits[e][v]));
      }
      // Gathered graph: log-probabilities at the masks / object slot for a few ids.
      const ids = [5, 100, 2123, 7000];
      const g = await gathered.run({
        ...naiveFeeds(ck, p),
        word_positions: i64(p.maskPositions, [1, p.maskPositions.length]),
        word_candidates: i64(
          p.maskPositions.flatMap(() => ids),
          [1, p.maskPositions.length, ids.length],
        ),
        entity_slots: i64(p.entityIds.length ? [0] : [], [1, p.entityIds.length ? 1 : 0]),
        entity_candidates: i64(p.entityIds.length ? [3, 10, 50] : [], [1, p.entityIds.length ? 1 : 0, 3]),
      });
      const wl = g.word_logprobs.data as Float32Array;
      p.maskPositions.forEach((pos, i) => {
        const lp = logSoftmax(ref.wordLogits[pos]);
        ids.forEach((id, j) => (maxDiff = Math.max(maxDiff, Math.abs(wl[i * ids.length + j] - lp[id]))));
      });
      if (p.entityIds.length) {
        const lp = logSoftmax(ref.entityLogits[0]);
        [3, 10, 50].forEach((id, j) => (maxDiff = Math.max(maxDiff, Math.abs((g.entity_logprobs.data as Float32Array)[j] - lp[id]))));
      }
    }
    console.log(`# reference vs ONNX (entity-aware ${entityAware}): max |diff| ${maxDiff.toExponential(2)} over ${qs.length} prompts`);
    assert.ok(maxDiff < 1e-4, `max diff ${maxDiff}`);
  });
}

test('scorer equals a reference ranking from the naive graph on 500+ queries in 3 languages, both styles', async () => {
  const ck = load(tinyCheckpoint());
  const qs = sample(ck, ['en', 'ja', 'ar'], 7);
  const perStyle = qs.length / 2;
  assert.ok(perStyle >= 500, `${perStyle} queries per style`);
  const session = await openSession(ck, 'gathered');
  const naive = await openSession(ck, 'naive');
  const got = await scoreAll(session, ck, qs, 64);
  assert.equal(got.size, qs.length);
  let maxDiff = 0;
  for (const b of qs) {
    const ref = await referenceScores(ck, naive, b);
    const s = got.get(`${b.style.name}|${b.query.key}`)!;
    assert.deepEqual(
      s.top.map((t) => t.label),
      ref.top.map((t) => t.label),
      b.query.key,
    );
    assert.equal(s.goldRank, ref.goldRank);
    s.top.forEach((t, i) => Number.isFinite(t.score) && (maxDiff = Math.max(maxDiff, Math.abs(t.score - ref.top[i].score))));
  }
  console.log(`# scorer vs naive reference: ${qs.length} (query, style) pairs, max |score diff| ${maxDiff.toExponential(2)}`);
  assert.ok(maxDiff < 1e-4);
});

test('rankings do not depend on batch size (1, 7, 64), threads (1, 2) or the head budget', async () => {
  const ck = load(tinyCheckpoint());
  const qs = sample(ck, ['en', 'zh'], 2);
  const runs: Map<string, ScoredQuery>[] = [];
  // The last setting lets at most 3 entity rows (or 3 word masks' worth of rows) share a batch.
  for (const [threads, batch, headBudget] of [
    [1, 1],
    [1, 7],
    [2, 64],
    [2, 7],
    [2, 64, 3 * Math.max(ck.config.vocab_size, ck.config.entity_vocab_size)],
  ]) {
    runs.push(await scoreAll(await openSession(ck, 'gathered', { threads }), ck, qs, batch, headBudget));
  }
  for (const [k, s] of runs[0]) {
    for (const other of runs.slice(1)) {
      const o = other.get(k)!;
      assert.deepEqual(
        o.top.map((t) => t.label),
        s.top.map((t) => t.label),
        k,
      );
      assert.equal(o.goldRank, s.goldRank);
      o.top.forEach((t, i) => assert.ok(Math.abs(t.score - s.top[i].score) < 1e-5 || t.score === s.top[i].score));
    }
  }
});

test('make-checkpoint is deterministic and fast', async () => {
  const a = join(tempDir(), 'a');
  const b = join(tempDir(), 'b');
  const t0 = performance.now();
  assert.equal((await cli('make-checkpoint', '--out', a, '--seed', '5')).code, 0);
  console.log(`# tiny checkpoint generated in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  assert.equal((await cli('make-checkpoint', '--out', b, '--seed', '5')).code, 0);
  for (const f of ['weights.bin', 'model.onnx', 'model.naive.onnx', 'entity_vocab.json', 'tokenizer.json'])
    assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f);
});

async function broken(edit: (dir: string) => void): Promise<string> {
  const dir = join(tempDir(), 'ck');
  cpSync(tinyCheckpoint(1, false, join(import.meta.dirname, '../datasets/mlama-sample')), dir, { recursive: true });
  edit(dir);
  const r = await cli(
    'run',
    '--model',
    dir,
    '--data',
    join(import.meta.dirname, '../datasets/mlama-sample'),
    '--db',
    join(tempDir(), 'r.sqlite'),
    '--limit',
    '1',
  );
  assert.equal(r.code, 2, r.err);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  return r.err;
}

test('the loader rejects broken checkpoints with one clear line', async () => {
  const json = (dir: string, f: string, fn: (j: any) => void) => {
    const j = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    fn(j);
    writeFileSync(join(dir, f), JSON.stringify(j));
  };
  assert.match(
    await broken((d) =>
      json(d, 'mlama-checkpoint.json', (m) => (m.graphs.gathered.inputs = m.graphs.gathered.inputs.filter((x: string) => x !== 'entity_position_ids'))),
    ),
    /graphs\.gathered\.inputs" lacks "entity_position_ids"/,
  );
  assert.match(
    await broken((d) => json(d, 'config.json', (c) => (c.vocab_size = 250002))),
    /tokenizer has 8002 ids but .*config\.json field "vocab_size" is 250002/,
  );
  assert.match(await broken((d) => json(d, 'entity_vocab.json', (v) => delete v['[MASK]'])), /entity_vocab\.json: no \[MASK\] entity/);
  assert.match(await broken((d) => json(d, 'config.json', (c) => (c.entity_vocab_size = 5))), /entity vocabulary has \d+ ids but .*"entity_vocab_size" is 5/);
  // A graph that lacks an input the manifest promises: the naive graph stands in for the gathered one.
  assert.match(await broken((d) => cpSync(join(d, 'model.naive.onnx'), join(d, 'model.onnx'))), /model\.onnx: graph has no input "word_positions"/);
  assert.match(await broken((d) => writeFileSync(join(d, 'model.onnx'), 'not onnx')), /model\.onnx: onnxruntime cannot load the graph/);
  assert.match(
    await broken((d) => writeFileSync(join(d, 'entity_vocab.json'), '{"[MASK]": 2, "en:x": }')),
    /entity_vocab\.json: malformed entity vocabulary at byte \d+/,
  );
});

test('--device cuda fails clearly where the provider is not installed', async () => {
  const r = await cli(
    'run',
    '--model',
    tinyCheckpoint(),
    '--data',
    SHARED_DATA,
    '--languages',
    'en',
    '--limit',
    '1',
    '--device',
    'cuda',
    '--db',
    join(tempDir(), 'r.sqlite'),
  );
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /--device cuda: the CUDA execution provider is not available/);
});
