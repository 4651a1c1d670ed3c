import type { CandidateTable, Pass } from '../prompts/build.js';
import type { Head } from '../types.js';
import type { ModelConfig } from './config.js';
import { CONTRACT } from './contract.js';
import { wordHeadFlops } from './families/encoder.js';

/** An int64 feed of `dims`, every element `fill`; `data` is written in place before the batch runs. */
export type TensorMaker = (name: string, dims: number[], fill: bigint) => { data: BigInt64Array; tensor: unknown };

/** One row of a batch as a head sees it: the pass, and the candidate table of its relation. */
export interface HeadRow {
  pass: Pass;
  candidates: CandidateTable;
}

/**
 * A prediction head as data, like a model family: what it feeds, what it reads back, how many encoder rows it
 * reads, its FLOPs, its contract names and whether its answers carry entity coverage. Adding a head is one entry
 * here and its names in src/model/contract.json; the scorer, the FLOP count and the reports ask this table
 * instead of switching on the head's name.
 */
export interface HeadSpec {
  name: Head;
  /** Encoder output rows the head reads in a pass: a word head every mask, the entity head one [MASK] entity. */
  rowsRead(p: Pass): number;
  /** What else must match for passes to share a batch: the word head runs at every mask slot of the batch. */
  batchKey(p: Pass): number;
  /** The head's output width per row read (its vocabulary), for the scorer's head budget. */
  width(c: ModelConfig): number;
  /** Useful FLOPs of the head itself over one pass (multiply-adds count 2). */
  flops(c: ModelConfig, p: Pass): number;
  /** The contract's gather inputs and outputs (src/model/contract.json). */
  contract: { gather_inputs: string[]; gathered_output: string; naive_output: string };
  /** The gather inputs of a batch: this head's filled, the other heads' empty. */
  feeds(rows: HeadRow[], tensor: TensorMaker, padEntity: number): Record<string, unknown>;
  /** A row's candidate scores read from the head's gathered output [B, M, K] into `scores`. */
  collect(data: Float32Array, dims: readonly number[], b: number, row: HeadRow, scores: Float64Array): void;
  /**
   * The authors' pattern (the naive graph, the benchmark's baseline): a row's candidate scores read from the
   * head's full logits (`contract.naive_output`, [B, L or E, V]) through a log-softmax over the whole vocabulary.
   */
  naiveCollect(logits: Float32Array, dims: readonly number[], b: number, row: HeadRow, scores: Float64Array): void;
  /** What the peer (tools/peer_bench.py) is given to score per candidate: token ids or entity ids. */
  peerCandidates(candidates: CandidateTable): (number[] | number | null)[];
  /** Whether a -Infinity score of candidate c is a model failure (not a candidate the head cannot score). */
  mustScore(candidates: CandidateTable, c: number): boolean;
  /** Whether answers carry entity coverage (and the reports show coverage columns). */
  coverage: boolean;
}

/** log-softmax over one row of logits, computed in full (as a framework would) and read at the ids asked for. */
function logSoftmaxAt(data: Float32Array, offset: number, n: number): (id: number) => number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (data[offset + i] > max) max = data[offset + i];
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(data[offset + i] - max);
  const lse = max + Math.log(sum);
  return (id) => data[offset + id] - lse;
}

/** Every other head's gather inputs, empty (positions [B, 0], candidates [B, 0, 1]): a graph takes all of them. */
const othersEmpty = (self: Head, tensor: TensorMaker, B: number): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(CONTRACT.heads)
      .filter(([h]) => h !== self)
      .flatMap(([, c]) => [
        [c.gather_inputs[0], tensor(c.gather_inputs[0], [B, 0], 0n).tensor],
        [c.gather_inputs[1], tensor(c.gather_inputs[1], [B, 0, 1], 0n).tensor],
      ]),
  );

const word: HeadSpec = {
  name: 'word',
  rowsRead: (p) => p.maskPositions.length,
  batchKey: (p) => p.maskPositions.length,
  width: (c) => c.vocab_size,
  flops: (c, p) => wordHeadFlops(c, p.maskPositions.length),
  contract: CONTRACT.heads.word,
  feeds(rows, tensor) {
    const B = rows.length;
    const K = Math.max(...rows.map((r) => r.pass.candidates.length));
    const M = Math.max(...rows.map((r) => r.pass.maskPositions.length));
    const pos = tensor('word_positions', [B, M], 0n);
    const cand = tensor('word_candidates', [B, M, K], 0n);
    rows.forEach((r, b) => {
      r.pass.maskPositions.forEach((p, i) => (pos.data[b * M + i] = BigInt(p)));
      r.pass.candidates.forEach((c, j) => r.candidates.tokens[c].forEach((t, i) => (cand.data[(b * M + i) * K + j] = BigInt(t))));
    });
    return { ...othersEmpty('word', tensor, B), word_positions: pos.tensor, word_candidates: cand.tensor };
  },
  collect(data, [, M, K], b, row, scores) {
    // A candidate's score is the mean log-probability of its tokens at the masks.
    const n = row.pass.maskPositions.length;
    row.pass.candidates.forEach((c, j) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += data[(b * M + i) * K + j];
      scores[c] = s / n;
    });
  },
  naiveCollect(logits, [, L, V], b, row, scores) {
    const lp = row.pass.maskPositions.map((p) => logSoftmaxAt(logits, (b * L + p) * V, V));
    for (const c of row.pass.candidates) scores[c] = row.candidates.tokens[c].reduce((s, tok, i) => s + lp[i](tok), 0) / row.pass.maskPositions.length;
  },
  peerCandidates: (candidates) => candidates.tokens,
  mustScore: () => true,
  coverage: false,
};

const entity: HeadSpec = {
  name: 'entity',
  rowsRead: () => 1,
  batchKey: () => 0,
  width: (c) => c.entity_vocab_size ?? 0,
  flops: (c) => {
    const emb = c.entity_emb_size ?? c.hidden_size;
    return 2 * c.hidden_size * emb + 2 * emb * (c.entity_vocab_size ?? 0);
  },
  contract: CONTRACT.heads.entity,
  feeds(rows, tensor, padEntity) {
    const B = rows.length;
    const K = Math.max(...rows.map((r) => r.pass.candidates.length));
    const cand = tensor('entity_candidates', [B, 1, K], BigInt(padEntity));
    rows.forEach((r, b) =>
      r.pass.candidates.forEach((c, j) => {
        const id = r.candidates.entities[c].id;
        if (id !== null) cand.data[b * K + j] = BigInt(id);
      }),
    );
    return { ...othersEmpty('entity', tensor, B), entity_slots: tensor('entity_slots', [B, 1], 0n).tensor, entity_candidates: cand.tensor };
  },
  collect(data, [, , K], b, row, scores) {
    // A candidate without an entity id keeps -Infinity: the entity head cannot rank it.
    row.pass.candidates.forEach((c, j) => {
      if (row.candidates.entities[c].id !== null) scores[c] = data[b * K + j];
    });
  },
  naiveCollect(logits, [, E, V], b, row, scores) {
    // The object [MASK] entity is slot 0.
    const lp = logSoftmaxAt(logits, b * E * V, V);
    for (const c of row.pass.candidates) {
      const id = row.candidates.entities[c].id;
      if (id !== null) scores[c] = lp(id);
    }
  },
  peerCandidates: (candidates) => candidates.entities.map((e) => e.id),
  mustScore: (candidates, c) => candidates.entities[c].id !== null,
  coverage: true,
};

export const HEAD_SPECS: Record<Head, HeadSpec> = { word, entity };

export const headSpec = (h: Head): HeadSpec => HEAD_SPECS[h];
