import type { ResultRow } from '../store/db.js';
import { groupBy, mean } from '../stats.js';
import { byKey } from './groups.js';

/** The object a language's prompts predict most for one relation, against how often it is right. */
export interface RelationBias {
  language: string;
  style: string;
  relation: string;
  queries: number;
  /** The most frequent top-1 prediction (ties: the label first in code-point order). */
  top_object: string;
  top_object_uri: string | null;
  /** Share of queries whose top-1 is that object. */
  predicted_share: number;
  /** Share of queries that have that object among their gold answers. */
  gold_share: number;
  /** How many different objects the queries' top-1 predictions name. */
  distinct_predictions: number;
}

export interface BiasSummary {
  language: string;
  style: string;
  relations: number;
  /** Means over relations of predicted_share and of (predicted_share - gold_share). */
  predicted_share: number;
  excess_share: number;
}

export interface BiasReport {
  relations: RelationBias[];
  summary: BiasSummary[];
}

/**
 * Per language, style and relation: the most predicted object, the share of queries that get it, and its share
 * among the gold answers. A share far above its gold share is a prior of the prompt language, not knowledge.
 */
export function languageBias(rows: ResultRow[]): BiasReport {
  const relations: RelationBias[] = [];
  // Main-template answers only: a paraphrase run asks each subject several times.
  for (const g of groupBy(
    rows.filter((r) => r.template_main !== false),
    (r) => [r.language, r.style, r.relation],
  ).values()) {
    const counts = new Map<string, { n: number; uri: string | null }>();
    for (const r of g) {
      if (!r.top.length) continue;
      const c = counts.get(r.top[0].label) ?? counts.set(r.top[0].label, { n: 0, uri: r.top[0].uri ?? null }).get(r.top[0].label)!;
      c.n++;
    }
    if (counts.size === 0) continue;
    const [label, c] = [...counts.entries()].sort((x, y) => y[1].n - x[1].n || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))[0];
    relations.push({
      language: g[0].language,
      style: g[0].style,
      relation: g[0].relation,
      queries: g.length,
      top_object: label,
      top_object_uri: c.uri,
      predicted_share: c.n / g.length,
      gold_share: g.filter((r) => r.golds.includes(label)).length / g.length,
      distinct_predictions: counts.size,
    });
  }
  const summary = [...groupBy(relations, (r) => [r.language, r.style]).values()].map((g) => ({
    language: g[0].language,
    style: g[0].style,
    relations: g.length,
    // A summary group holds one relation or more: its means are defined.
    predicted_share: mean(g.map((r) => r.predicted_share))!,
    excess_share: mean(g.map((r) => r.predicted_share - r.gold_share))!,
  }));
  return { relations: relations.sort(byKey), summary: summary.sort(byKey) };
}
