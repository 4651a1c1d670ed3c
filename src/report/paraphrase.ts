import type { ResultRow } from '../store/db.js';
import { correctAt } from './metrics.js';
import { groupBy, mean } from '../stats.js';
import { byKey } from './groups.js';

export interface TemplateScore {
  template: string;
  queries: number;
  p_at_1: number;
}

/** Paraphrase robustness of one relation in one language and style. */
export interface ParaphraseRelation {
  language: string;
  style: string;
  relation: string;
  templates: TemplateScore[];
  /** Highest minus lowest template P@1. */
  spread: number;
  /** Population standard deviation of the templates' P@1. */
  std: number;
  /** Unordered template pairs of one subject whose top-1 predictions were compared. */
  pairs: number;
  /** Share of those pairs with the same top-1 prediction (Elazar et al., 2021); null without pairs. */
  consistency: number | null;
}

export interface ParaphraseSummary {
  language: string;
  style: string;
  relations: number;
  /** Means over the relations that have at least two templates. */
  spread: number;
  consistency: number | null;
}

export interface ParaphraseReport {
  relations: ParaphraseRelation[];
  summary: ParaphraseSummary[];
}

const top1 = (r: ResultRow) => (r.top.length ? (r.top[0].uri ?? r.top[0].label) : null);

/**
 * Per language, style and relation: P@1 of each template, its spread, and mParaRel's consistency: over every
 * subject asked with several templates, the share of unordered template pairs whose top-1 predictions agree.
 */
export function paraphraseRobustness(rows: ResultRow[]): ParaphraseReport {
  const relations: ParaphraseRelation[] = [];
  for (const g of groupBy(rows, (r) => [r.language, r.style, r.relation]).values()) {
    const templates = [...groupBy(g, (r) => [r.template]).values()].map((t) => ({
      template: t[0].template,
      queries: t.length,
      p_at_1: t.filter((r) => correctAt(r, 1)).length / t.length,
    }));
    if (templates.length < 2) continue;
    let pairs = 0;
    let same = 0;
    for (const s of groupBy(g, (r) => [r.subject]).values()) {
      for (let i = 0; i < s.length; i++) {
        for (let j = i + 1; j < s.length; j++) {
          pairs++;
          if (top1(s[i]) !== null && top1(s[i]) === top1(s[j])) same++;
        }
      }
    }
    const ps = templates.map((t) => t.p_at_1);
    // A relation here has two templates or more, and each summary group one relation or more: no mean is empty.
    const m = mean(ps)!;
    relations.push({
      language: g[0].language,
      style: g[0].style,
      relation: g[0].relation,
      templates,
      spread: Math.max(...ps) - Math.min(...ps),
      std: Math.sqrt(mean(ps.map((p) => (p - m) ** 2))!),
      pairs,
      consistency: pairs ? same / pairs : null,
    });
  }
  const summary = [...groupBy(relations, (r) => [r.language, r.style]).values()].map((g) => {
    const c = g.filter((r) => r.consistency !== null).map((r) => r.consistency!);
    return { language: g[0].language, style: g[0].style, relations: g.length, spread: mean(g.map((r) => r.spread))!, consistency: mean(c) };
  });
  return { relations: relations.sort(byKey), summary: summary.sort(byKey) };
}
