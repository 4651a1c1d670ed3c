import { HarnessError } from '../errors.js';
import type { Head } from '../types.js';
import type { BuiltQuery, Pass } from '../prompts/build.js';
import { headSpec, type HeadRow } from './heads.js';
import { isWordOnly, ort, type ModelSession } from './session.js';

export interface RankedCandidate {
  index: number;
  label: string;
  score: number;
}

/** The scorer's answer for one query under one style. */
export interface ScoredQuery {
  built: BuiltQuery;
  top: RankedCandidate[];
  /** 1-based rank of the best-ranked gold object. */
  goldRank: number;
  goldScore: number;
  goldLabel: string;
  /** Another candidate scored exactly the best gold's score: candidate order, not the model, decided its rank. */
  goldTie: boolean;
  candidates: number;
  /** Candidates the style could not score (no entity id): they rank last. */
  unscorable: number;
  /** Not scored: a pass is longer than the model's positions (ScorerOptions.maxLength); wrong at every k. */
  tooLong?: boolean;
}

export interface ScorerOptions {
  /** Rows per batch at most. */
  batchSize?: number;
  /** Padded tokens per batch at most (rows x sequence length). */
  tokenBudget?: number;
  /**
   * Head outputs per batch at most, in floats: rows read by a head times its vocabulary. The full-vocabulary
   * log-softmax of 64 entity rows over mLUKE's 1.2M entities would be 300 MB, twice over; this caps it.
   */
  headBudget?: number;
  /** Vocabulary sizes of the heads, for headBudget (a head not named: no cap). */
  headWidths?: Partial<Record<Head, number>>;
  /** Entity id fed at the dummy slot of word-only passes (masked out); the vocabulary's [PAD]. */
  padEntityId: number;
  /**
   * The words graph (a LUKE export's encoder without entity inputs): word-head passes that feed no entity run
   * there, without the dummy entity and the entity-aware attention it costs.
   */
  words?: ModelSession;
  topK?: number;
  /**
   * The longest sequence the model can position (maxSequenceLength of the config). A query with a longer pass
   * is not run (onnxruntime would fail on the position table, and every resume with it): it comes back unranked,
   * with `tooLong` set and the gold past the last rank.
   */
  maxLength?: number;
}

interface Row {
  q: Pending;
  pass: Pass;
}

interface Pending {
  built: BuiltQuery;
  scores: Float64Array;
  remaining: number;
}

/** Typed-array pools: onnxruntime wraps them without copying, so two alternate while one batch is in flight. */
class Buffers {
  private pools = [new Map<string, BigInt64Array>(), new Map<string, BigInt64Array>()];
  private turn = 0;
  next(): void {
    this.turn ^= 1;
  }
  get(name: string, size: number, fill: bigint): BigInt64Array {
    const pool = this.pools[this.turn];
    let b = pool.get(name);
    if (!b || b.length < size) pool.set(name, (b = new BigInt64Array(Math.max(size, (b?.length ?? 0) * 2))));
    const view = b.subarray(0, size);
    view.fill(fill);
    return view;
  }
}

/**
 * Ranks built queries' candidates with the gathered graph. Passes are bucketed by (head, sequence length, entity
 * count, and for the word head mask count) and packed by a token budget; a query is yielded as soon as its last
 * pass is scored, so memory does not grow with the number of queries; results come out one array per batch. The
 * next batch is assembled while onnxruntime runs the current one. What is left in part-filled buckets at the end
 * is merged (see tailBatches).
 */
export async function* scoreQueries(
  session: ModelSession,
  queries: Iterable<BuiltQuery> | AsyncIterable<BuiltQuery>,
  o: ScorerOptions,
): AsyncGenerator<ScoredQuery[]> {
  const batchSize = o.batchSize ?? 64;
  const tokenBudget = o.tokenBudget ?? 4096;
  const headBudget = o.headBudget ?? 32 * 2 ** 20;
  const topK = o.topK ?? 10;
  const buckets = new Map<string, Row[]>();
  const buffers = new Buffers();
  const state: { inFlight: Promise<ScoredQuery[]> | null } = { inFlight: null };
  let batchNo = 0;

  // Feeds for batch k are built while batch k-1 runs; only one run is in flight, so the threads are not shared.
  async function* flush(rows: Row[]): AsyncGenerator<ScoredQuery[]> {
    const feeds = buildFeeds(rows, buffers, o.padEntityId);
    // A bucket holds one entity count, and word-only styles feed none, so its first row speaks for all of them.
    const graph = o.words && isWordOnly(rows[0].q.built.style) ? o.words : session;
    // Each graph gets only the inputs it declares (XLM-R and words graphs: no entity inputs; BERT: token_type_ids).
    for (const name of Object.keys(feeds)) if (!graph.inputNames.includes(name)) delete feeds[name];
    buffers.next();
    const n = ++batchNo;
    if (state.inFlight) yield await state.inFlight;
    state.inFlight = graph.run(feeds).then((out) => collect(rows, out, n, topK));
  }

  let tooLong: ScoredQuery[] = [];
  for await (const built of queries) {
    if (o.maxLength !== undefined && built.passes.some((p) => p.inputIds.length > o.maxLength!)) {
      tooLong.push(unranked(built));
      if (tooLong.length >= batchSize) {
        yield tooLong;
        tooLong = [];
      }
      continue;
    }
    const pending: Pending = { built, scores: new Float64Array(built.relation.candidates.labels.length).fill(-Infinity), remaining: built.passes.length };
    for (const pass of built.passes) {
      // The word head runs at every mask slot of the batch (B x the most masks): passes with fewer masks would
      // pad it with full-vocabulary rows that are thrown away, so the mask count is part of the key.
      const head = headSpec(built.style.head);
      const key = `${head.name}|${pass.inputIds.length}|${pass.entityIds.length}|${head.batchKey(pass)}`;
      let rows = buckets.get(key);
      if (!rows) buckets.set(key, (rows = []));
      rows.push({ q: pending, pass });
      const headRows = head.rowsRead(pass);
      const width = o.headWidths?.[head.name] ?? 0;
      if (rows.length >= batchSize || (rows.length + 1) * pass.inputIds.length > tokenBudget || (rows.length + 1) * headRows * width > headBudget) {
        buckets.delete(key);
        yield* flush(rows);
      }
    }
  }
  const left = [...buckets.values()].flat();
  buckets.clear();
  for (const rows of tailBatches(left, batchSize, tokenBudget, headBudget, o.headWidths)) yield* flush(rows);
  if (state.inFlight) yield await state.inFlight;
  if (tooLong.length) yield tooLong;
}

/**
 * What a run costs beyond its padded tokens, in tokens: every run reads all the weights (the output tables
 * included) and dispatches every node. On an mLUKE-base-sized export's words graph, 2 threads, 1, 11 and 22 rows
 * of 16 tokens took 184, 691 and 1,216 ms: about 150 ms a run and 3 ms a token, so splitting a batch pays off
 * only when it saves more padding than this (32 left 1-row runs of 150 ms beside 11-row batches). The graphs the
 * exporter writes for a transformers LUKE model skip padding in every dense layer, so there this overcharges it;
 * merging leftovers across lengths regardless (29 -> 22 runs on the word sample) gained nothing measurable.
 */
const RUN_COST_TOKENS = 48;

/**
 * The part-filled buckets left at the end, merged: rows of the same head, entity count and (word head) mask
 * count, sorted by length, are cut into batches padded to their longest row (padding is masked out of attention,
 * so the scores are those of unpadded runs) where the cut minimises padded tokens plus RUN_COST_TOKENS per run.
 * A small run (a sample, a shard's last relations) is mostly such leftovers: one batch per exact length would
 * make many runs of a few rows, each paying for all the weights.
 */
function tailBatches(rows: Row[], batchSize: number, tokenBudget: number, headBudget: number, widths?: Partial<Record<Head, number>>): Row[][] {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const head = headSpec(r.q.built.style.head);
    const key = `${head.name}|${r.pass.entityIds.length}|${head.batchKey(r.pass)}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(r);
  }
  const out: Row[][] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => a.pass.inputIds.length - b.pass.inputIds.length);
    const head = headSpec(g[0].q.built.style.head);
    const perRow = head.rowsRead(g[0].pass) * (widths?.[head.name] ?? 0);
    // cost[i]: the cheapest cut of the first i rows; from[i]: where its last batch starts.
    const cost = [0];
    const from = [0];
    for (let i = 1; i <= g.length; i++) {
      const L = g[i - 1].pass.inputIds.length;
      cost.push(Infinity);
      from.push(i - 1);
      for (let j = i - 1; j >= 0; j--) {
        const n = i - j;
        if (n > 1 && (n > batchSize || n * L > tokenBudget || n * perRow > headBudget)) break;
        const c = cost[j] + RUN_COST_TOKENS + n * L;
        if (c < cost[i]) {
          cost[i] = c;
          from[i] = j;
        }
      }
    }
    const batches: Row[][] = [];
    for (let i = g.length; i > 0; i = from[i]) batches.unshift(g.slice(from[i], i));
    out.push(...batches);
  }
  return out;
}

function unranked(built: BuiltQuery): ScoredQuery {
  const n = built.relation.candidates.labels.length;
  return {
    built,
    top: [],
    goldRank: n + 1,
    goldScore: -Infinity,
    goldLabel: built.relation.candidates.labels[built.golds[0]],
    candidates: n,
    unscorable: 0,
    tooLong: true,
    goldTie: false,
  };
}

function buildFeeds(rows: Row[], buf: Buffers, padEntity: number): Record<string, ort.Tensor> {
  const B = rows.length;
  const L = Math.max(...rows.map((r) => r.pass.inputIds.length));
  const head = headSpec(rows[0].q.built.style.head);
  const tensor = (name: string, dims: number[], fill: bigint) => {
    const data = buf.get(
      name,
      dims.reduce((a, b) => a * b, 1),
      fill,
    );
    return { data, tensor: new ort.Tensor('int64', data, dims) };
  };
  // Shorter rows are padded at the end with id 1 (the XLM-R/LUKE <pad>, whose positions then stay at the padding
  // index) and masked out; a row's own positions and attention are those of an unpadded run.
  const ids = tensor('input_ids', [B, L], 1n);
  const mask = tensor('attention_mask', [B, L], 0n);
  rows.forEach((r, b) =>
    r.pass.inputIds.forEach((id, i) => {
      ids.data[b * L + i] = BigInt(id);
      mask.data[b * L + i] = 1n;
    }),
  );
  // Every name of the contract is fed; the caller keeps those the family's graph declares (token_type_ids: BERT).
  const feeds: Record<string, ort.Tensor> = {
    input_ids: ids.tensor,
    attention_mask: mask.tensor,
    token_type_ids: tensor('token_type_ids', [B, L], 0n).tensor,
  };
  const E = rows[0].pass.entityIds.length;
  if (E === 0) {
    // A masked-out [PAD] entity: words attend to it with weight exactly 0, so the word outputs equal a run
    // without entity inputs, and the entity head reads no slot.
    Object.assign(feeds, {
      entity_ids: tensor('entity_ids', [B, 1], BigInt(padEntity)).tensor,
      entity_attention_mask: tensor('entity_attention_mask', [B, 1], 0n).tensor,
      entity_token_type_ids: tensor('entity_token_type_ids', [B, 1], 0n).tensor,
      entity_position_ids: tensor('entity_position_ids', [B, 1, 1], -1n).tensor,
    });
  } else {
    const P = Math.max(...rows.flatMap((r) => r.pass.entityPositions.map((p) => p.length)));
    const eIds = tensor('entity_ids', [B, E], BigInt(padEntity));
    const ePos = tensor('entity_position_ids', [B, E, P], -1n);
    rows.forEach((r, b) => {
      r.pass.entityIds.forEach((id, e) => {
        eIds.data[b * E + e] = BigInt(id);
        r.pass.entityPositions[e].forEach((p, k) => (ePos.data[(b * E + e) * P + k] = BigInt(p)));
      });
    });
    Object.assign(feeds, {
      entity_ids: eIds.tensor,
      entity_attention_mask: tensor('entity_attention_mask', [B, E], 1n).tensor,
      entity_token_type_ids: tensor('entity_token_type_ids', [B, E], 0n).tensor,
      entity_position_ids: ePos.tensor,
    });
  }
  const headRows: HeadRow[] = rows.map((r) => ({ pass: r.pass, candidates: r.q.built.relation.candidates }));
  Object.assign(feeds, head.feeds(headRows, tensor, padEntity));
  return feeds;
}

function collect(rows: Row[], out: Record<string, ort.Tensor>, batchNo: number, topK: number): ScoredQuery[] {
  const done: ScoredQuery[] = [];
  const head = headSpec(rows[0].q.built.style.head);
  const t = out[head.contract.gathered_output];
  const data = t.data as Float32Array;
  rows.forEach((r, b) => {
    const scores = r.q.scores;
    head.collect(data, t.dims, b, { pass: r.pass, candidates: r.q.built.relation.candidates }, scores);
    for (const c of r.pass.candidates) {
      const s = scores[c];
      if (Number.isNaN(s) || s === Infinity || (s === -Infinity && head.mustScore(r.q.built.relation.candidates, c))) {
        throw new HarnessError(
          `batch ${batchNo}: the model produced a non-finite score (${s}) for ${r.q.built.query.key}; nothing from this batch was stored`,
          3,
        );
      }
    }
    if (--r.q.remaining === 0) done.push(rank(r.q, topK));
  });
  return done;
}

/** Sorts by score, ties by candidate order, so rankings are reproducible whatever the batching. */
export function rank(p: Pending | { built: BuiltQuery; scores: Float64Array }, topK: number): ScoredQuery {
  const { built, scores } = p;
  const labels = built.relation.candidates.labels;
  const before = (a: number, b: number) => scores[a] > scores[b] || (scores[a] === scores[b] && a < b);
  const order = Array.from(scores.keys()).sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
  const top = order.slice(0, topK).map((i) => ({ index: i, label: labels[i], score: scores[i] }));
  let best = built.golds[0];
  for (const g of built.golds) if (before(g, best)) best = g;
  let goldRank = 1;
  let goldTie = false;
  for (let i = 0; i < scores.length; i++) {
    if (i !== best && before(i, best)) goldRank++;
    if (scores[i] === scores[best] && !built.golds.includes(i)) goldTie = true;
  }
  let unscorable = 0;
  const head = headSpec(built.style.head);
  for (let c = 0; c < labels.length; c++) if (!head.mustScore(built.relation.candidates, c)) unscorable++;
  return { built, top, goldRank, goldScore: scores[best], goldLabel: labels[best], goldTie, candidates: labels.length, unscorable };
}
