import type { Query } from '../data/types.js';
import { prepareRelation, rememberingPieces } from '../prompts/build.js';
import { selectedSets } from '../prompts/source.js';
import { resultKey } from '../store/db.js';
import type { ShardSpec } from './shard.js';
import { planShard, queryCosts, type ShardPlan } from './costs.js';
import type { RunContext } from './context.js';

/** What a run owes: per language, the answers it plans and those already stored (a resume). */
export interface RunPlan {
  totals: Map<string, { total: number; done: number }>;
  planned: number;
  shard?: ShardPlan;
  /** Whether this process asks the query (its shard owns it). */
  owns(queryKey: string): boolean;
}

/** The key a stored answer has: one per (style, query). */
export const answerKey = (style: string, q: Query) => resultKey(style, q.language, q.relation, q.template, q.subject);

/**
 * The plan of a run from its context: which queries its shard owns (decided from every query's cost, so each
 * process of a job array derives the same split) and how many answers each language owes beyond `done`. Every
 * relation's candidates are tokenized here, so a candidate with no tokens is refused before a run is stored.
 */
export function planRun(ctx: RunContext, done: ReadonlySet<string>, shard?: ShardSpec): RunPlan {
  const { ds, languages, ck, labels, styles, selection } = ctx;
  const split = shard ? planShard(queryCosts(ds, languages, ck, labels, styles, selection), shard) : undefined;
  const owns = split ? (key: string) => split.owned.has(key) : () => true;
  const totals = new Map<string, { total: number; done: number }>();
  for (const lang of languages) {
    const pieces = rememberingPieces(ck.tokenizer);
    let total = 0;
    let already = 0;
    for (const set of selectedSets(ds, lang, selection)) {
      prepareRelation(set, pieces, null, selection.tokenization);
      for (const q of set.queries) {
        if (!owns(q.key)) continue;
        for (const s of styles) {
          total++;
          if (done.has(answerKey(s.name, q))) already++;
        }
      }
    }
    totals.set(lang, { total, done: already });
  }
  const planned = [...totals.values()].reduce((a, t) => a + t.total, 0);
  return { totals, planned, shard: split, owns };
}
