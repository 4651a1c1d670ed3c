// tier: full (needs ../shared)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDataset } from '../src/data/mlama.js';
import { readLabelIndex } from '../src/data/labels.js';
import { headWidths, loadCheckpoint, type Checkpoint } from '../src/model/checkpoint.js';
import { openSession, type ModelSession } from '../src/model/session.js';
import { scoreQueries, type ScoredQuery } from '../src/model/scorer.js';
import type { BuiltQuery } from '../src/prompts/build.js';
import { languageQueries } from '../src/prompts/source.js';
import { loadStyle } from '../src/prompts/styles.js';
import { keysForLabels } from '../src/tokenize/entityLinker.js';
import { SHARED_DATA } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';

const styles = [loadStyle('word'), loadStyle('entity')];

interface RunShape {
  head: 'word' | 'entity';
  lengths: number[];
  /** Word head: the mask slots each row really uses, and the slots the batch gives it. */
  masks: number[];
  slots: number;
}

/** The session, recording what each run was fed. */
function recording(s: ModelSession): { session: ModelSession; runs: RunShape[] } {
  const runs: RunShape[] = [];
  const session: ModelSession = {
    ...s,
    run: (feeds) => {
      const [B, L] = feeds.input_ids.dims as number[];
      const mask = feeds.attention_mask.data as BigInt64Array;
      const pos = feeds.word_positions.data as BigInt64Array;
      const M = feeds.word_positions.dims[1] as number;
      const lengths = Array.from({ length: B }, (_, b) => mask.subarray(b * L, (b + 1) * L).reduce((n, x) => n + Number(x), 0));
      // A real mask is never at position 0 (<s>): zeros in word_positions are slots padded for another row.
      const masks = Array.from({ length: B }, (_, b) => [...pos.subarray(b * M, (b + 1) * M)].filter((p) => p !== 0n).length);
      runs.push({ head: M > 0 ? 'word' : 'entity', lengths, masks, slots: M });
      return s.run(feeds);
    },
  };
  return { session, runs };
}

async function scoreAll(ck: Checkpoint, qs: BuiltQuery[], batchSize: number): Promise<{ scored: Map<string, ScoredQuery>; runs: RunShape[] }> {
  const opened = await openSession(ck, 'gathered', { threads: 1 });
  const { session, runs } = recording(opened);
  const scored = new Map<string, ScoredQuery>();
  try {
    for await (const batch of scoreQueries(session, qs, { batchSize, headWidths: headWidths(ck), padEntityId: ck.entityVocab?.special.pad ?? 0 }))
      for (const s of batch) scored.set(`${s.built.style.name}|${s.built.query.key}`, s);
  } finally {
    await opened.release();
  }
  return { scored, runs };
}

const checkpoints: [string, string, string][] = [
  ['generated tiny checkpoint', '', SHARED_DATA],
  ['exported known-answer checkpoint', 'datasets/known-answer', 'datasets/mlama-sample'],
];

for (const [name, dir, data] of checkpoints) {
  test(`${name}: a small run's leftovers share padded batches, scored as one pass at a time, with no padded mask slots`, async () => {
    const ds = openDataset(data);
    const labels = readLabelIndex(ds);
    const ck = loadCheckpoint(dir || tinyCheckpoint(), { entityKeys: keysForLabels(labels.labels) });
    const qs = ['en', 'ja']
      .flatMap((l) => [...languageQueries(ds, l, ck.tokenizer, ck.entityVocab, labels, styles, { fallback: true, limit: 1 })])
      .slice(0, 40);
    const alone = await scoreAll(ck, qs, 1);
    const merged = await scoreAll(ck, qs, 64);
    assert.equal(merged.scored.size, qs.length);
    // Fewer runs than passes, some of them with rows of different lengths (padding masked out).
    assert.ok(merged.runs.length < alone.runs.length / 2, `${merged.runs.length} runs for ${alone.runs.length} passes`);
    assert.ok(
      merged.runs.some((r) => new Set(r.lengths).size > 1),
      'no run mixed lengths',
    );
    for (const r of merged.runs.filter((x) => x.head === 'word'))
      assert.deepEqual(
        r.masks,
        r.masks.map(() => r.slots),
        'a word run padded mask slots',
      );
    let worst = 0;
    for (const [key, a] of alone.scored) {
      const b = merged.scored.get(key)!;
      assert.deepEqual(
        b.top.map((t) => t.index),
        a.top.map((t) => t.index),
        key,
      );
      assert.equal(b.goldRank, a.goldRank, key);
      a.top.forEach((t, i) => {
        if (t.score !== b.top[i].score) worst = Math.max(worst, Math.abs(t.score - b.top[i].score));
      });
    }
    assert.ok(worst < 1e-4, `max |merged - alone| ${worst}`);
  });
}
