import type { Dataset } from '../data/mlama.js';
import type { LabelIndex } from '../data/labels.js';
import type { Checkpoint } from '../model/checkpoint.js';
import { languageQueries, type QuerySelection } from '../prompts/source.js';
import type { PromptStyle } from '../prompts/styles.js';
import { assignShards, passTokens, shardBalance, type CostItem, type ShardBalance, type ShardSpec } from './shard.js';

/** Every selected query's cost, in a canonical order (languages sorted, then relation and file order). */
export function queryCosts(ds: Dataset, languages: string[], ck: Checkpoint, labels: LabelIndex, styles: PromptStyle[], sel: QuerySelection): CostItem[] {
  const cost = new Map<string, number>();
  for (const lang of [...languages].sort()) {
    for (const b of languageQueries(ds, lang, ck.tokenizer, ck.entityVocab, labels, styles, sel))
      cost.set(b.query.key, (cost.get(b.query.key) ?? 0) + passTokens(b));
  }
  return [...cost].map(([key, c]) => ({ key, cost: c }));
}

export interface ShardPlan {
  spec: ShardSpec;
  /** Query keys this shard owns. */
  owned: Set<string>;
  balance: ShardBalance;
}

export function planShard(items: CostItem[], spec: ShardSpec): ShardPlan {
  const assignment = assignShards(items, spec.count);
  const owned = new Set<string>();
  items.forEach((it, i) => {
    if (assignment[i] === spec.index) owned.add(it.key);
  });
  return { spec, owned, balance: shardBalance(items, assignment, spec.count) };
}
