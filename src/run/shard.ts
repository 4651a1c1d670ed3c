import type { BuiltQuery } from '../prompts/build.js';

export interface ShardSpec {
  /** Counts from 0. */
  index: number;
  count: number;
}

export const shardName = (s: ShardSpec) => `${s.index}/${s.count}`;

/** The inverse of shardName: "I/N" with 0 <= I < N, else undefined. */
export function parseShardName(text: string): ShardSpec | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) return undefined;
  return { index: Number(m[1]), count: Number(m[2]) };
}

/** A query (all its styles together) and its estimated cost. */
export interface CostItem {
  key: string;
  cost: number;
}

/**
 * What a query costs the encoder: the tokens (words and entities) of every pass, i.e. sequence length times the
 * number of candidate-length groups, summed over styles. Scoring time follows it closely; the count of queries
 * does not (a relation with objects of 1 to 12 tokens costs 12 passes per query).
 */
export function passTokens(b: BuiltQuery): number {
  let t = 0;
  for (const p of b.passes) t += p.inputIds.length + p.entityIds.length;
  return t;
}

/**
 * Cuts the items, in their canonical order, into `count` contiguous runs of nearly equal cost: an item goes to
 * the shard its cost midpoint falls in. Deterministic for a given dataset, checkpoint and options, so every
 * process of a job array computes the same split on its own; contiguity keeps each relation's candidate table
 * in few shards.
 */
export function assignShards(items: CostItem[], count: number): Int32Array {
  const total = items.reduce((s, i) => s + i.cost, 0);
  const out = new Int32Array(items.length);
  let before = 0;
  items.forEach((it, i) => {
    const mid = before + it.cost / 2;
    out[i] = Math.min(count - 1, Math.floor((mid / total) * count));
    before += it.cost;
  });
  return out;
}

export interface ShardBalance {
  costs: number[];
  queries: number[];
  /** Largest shard cost over the mean: 1 is perfect. */
  maxOverMean: number;
}

export function shardBalance(items: CostItem[], assignment: Int32Array, count: number): ShardBalance {
  const costs = new Array<number>(count).fill(0);
  const queries = new Array<number>(count).fill(0);
  items.forEach((it, i) => {
    costs[assignment[i]] += it.cost;
    queries[assignment[i]]++;
  });
  const mean = costs.reduce((a, b) => a + b, 0) / count;
  return { costs, queries, maxOverMean: Math.max(...costs) / mean };
}
