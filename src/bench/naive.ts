import type { Dataset } from '../data/mlama.js';
import type { LabelIndex } from '../data/labels.js';
import type { Checkpoint } from '../model/checkpoint.js';
import { headSpec } from '../model/heads.js';
import { rank, type ScoredQuery } from '../model/scorer.js';
import { ort, type ModelSession } from '../model/session.js';
import { buildQuery, prepareRelation, type BuiltQuery, type Pass } from '../prompts/build.js';
import { selectedSets, type QuerySelection } from '../prompts/source.js';
import type { PromptStyle } from '../prompts/styles.js';
import { entityLinker } from '../tokenize/entityLinker.js';

/**
 * The authors' pattern, kept only as the benchmark's baseline (../shared/docs/PROTOCOL.md section 5): the
 * candidate set is tokenized again for every fact, and the naive graph returns full logits at every position
 * and over the whole entity vocabulary, batch 8, no length bucketing.
 */
export function* naiveQueries(
  ds: Dataset,
  lang: string,
  ck: Checkpoint,
  labels: LabelIndex,
  styles: PromptStyle[],
  sel: QuerySelection,
): Generator<BuiltQuery> {
  const link = ck.entityVocab ? entityLinker(ck.entityVocab, labels, sel.fallback) : null;
  const ent = ck.entityVocab && link ? { link, maskId: ck.entityVocab.special.mask! } : null;
  for (const set of selectedSets(ds, lang, sel)) {
    for (const q of set.queries) {
      for (const style of styles) yield buildQuery(prepareRelation(set, ck.tokenizer, link), q, style, ck.tokenizer, ent);
    }
  }
}

interface Job {
  built: BuiltQuery;
  pass: Pass;
  scores: Float64Array;
  last: boolean;
}

/** Scores passes in arrival order, 8 at a time padded to the longest, reading log-softmax from full logits in JS. */
export async function* naiveScore(session: ModelSession, ck: Checkpoint, queries: Iterable<BuiltQuery>, batchSize = 8): AsyncGenerator<ScoredQuery[]> {
  let jobs: Job[] = [];
  for (const built of queries) {
    const scores = new Float64Array(built.relation.candidates.labels.length).fill(-Infinity);
    built.passes.forEach((pass, i) => jobs.push({ built, pass, scores, last: i === built.passes.length - 1 }));
    if (jobs.length >= batchSize) {
      const take = jobs.slice(0, batchSize);
      jobs = jobs.slice(batchSize);
      yield await runBatch(session, ck, take);
    }
  }
  while (jobs.length) {
    yield await runBatch(session, ck, jobs.slice(0, batchSize));
    jobs = jobs.slice(batchSize);
  }
}

async function runBatch(session: ModelSession, ck: Checkpoint, jobs: Job[]): Promise<ScoredQuery[]> {
  const B = jobs.length;
  const L = Math.max(...jobs.map((j) => j.pass.inputIds.length));
  const E = Math.max(1, ...jobs.map((j) => j.pass.entityIds.length));
  const P = Math.max(1, ...jobs.flatMap((j) => j.pass.entityPositions.map((p) => p.length)));
  const pad = ck.config.pad_token_id;
  const padEntity = ck.entityVocab?.special.pad ?? 0;
  const ids = new BigInt64Array(B * L).fill(BigInt(pad));
  const mask = new BigInt64Array(B * L);
  const eIds = new BigInt64Array(B * E).fill(BigInt(padEntity));
  const eMask = new BigInt64Array(B * E);
  const ePos = new BigInt64Array(B * E * P).fill(-1n);
  jobs.forEach((j, b) => {
    j.pass.inputIds.forEach((id, i) => {
      ids[b * L + i] = BigInt(id);
      mask[b * L + i] = 1n;
    });
    j.pass.entityIds.forEach((id, e) => {
      eIds[b * E + e] = BigInt(id);
      eMask[b * E + e] = 1n;
      j.pass.entityPositions[e].forEach((p, k) => (ePos[(b * E + e) * P + k] = BigInt(p)));
    });
  });
  const t = (data: BigInt64Array, dims: number[]) => new ort.Tensor('int64', data, dims);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: t(ids, [B, L]),
    attention_mask: t(mask, [B, L]),
    token_type_ids: t(new BigInt64Array(B * L), [B, L]),
    entity_ids: t(eIds, [B, E]),
    entity_attention_mask: t(eMask, [B, E]),
    entity_token_type_ids: t(new BigInt64Array(B * E), [B, E]),
    entity_position_ids: t(ePos, [B, E, P]),
  };
  // The family's graph declares which of these it takes (XLM-R: words only; BERT: token_type_ids too).
  const out = await session.run(Object.fromEntries(Object.entries(feeds).filter(([n]) => session.inputNames.includes(n))));
  const done: ScoredQuery[] = [];
  jobs.forEach((j, b) => {
    const head = headSpec(j.built.style.head);
    const t = out[head.contract.naive_output];
    head.naiveCollect(t.data as Float32Array, t.dims, b, { pass: j.pass, candidates: j.built.relation.candidates }, j.scores);
    if (j.last) done.push(rank({ built: j.built, scores: j.scores }, 10));
  });
  return done;
}
