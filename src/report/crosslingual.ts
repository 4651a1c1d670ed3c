import type { ResultRow } from '../store/db.js';
import { groupBy, mean } from '../stats.js';

/** Agreement of one language pair on the facts both were asked (same style, relation and subject `sub_uri`). */
export interface LanguagePair {
  a: string;
  b: string;
  facts: number;
  /** Share of facts whose top-1 objects are the same Wikidata id. */
  top1: number;
  /** Ranking-based consistency (Qi et al., 2023) over the stored top candidates. */
  rankc: number;
}

export interface CrossLingualStyle {
  style: string;
  languages: string[];
  pairs: LanguagePair[];
  /** Means over the language pairs that share at least one fact. */
  mean_top1: number | null;
  mean_rankc: number | null;
}

export interface CrossLingualReport {
  styles: CrossLingualStyle[];
  /** Set when the answers carry no Wikidata ids (stored before schema 2): nothing could be matched. */
  unavailable?: string;
  /** Main-template answers left out because their subject has no Wikidata id (GoogleRE lines carry labels only). */
  without_ids?: number;
}

/**
 * RankC of two rankings, best first: the sum over j = 1..K of w_j |top_j(a) ∩ top_j(b)| / j, with
 * w_j = exp(K - j) / Σ_k exp(K - k) (softmax over reversed ranks) and K the shorter list's length.
 */
export function rankc(a: string[], b: string[]): number {
  const k = Math.min(a.length, b.length);
  if (k === 0) return 0;
  const z = Array.from({ length: k }, (_, i) => Math.exp(k - 1 - i)).reduce((x, y) => x + y, 0);
  let sum = 0;
  for (let j = 1; j <= k; j++) {
    // |top_j(a) ∩ top_j(b)| as sets, as the definition reads (a list may name one object twice).
    const inB = new Set(b.slice(0, j));
    const common = new Set(a.slice(0, j).filter((x) => inB.has(x))).size;
    sum += (Math.exp(k - j) / z) * (common / j);
  }
  return sum;
}

/** A candidate's identity across languages: its Wikidata id; one without an id matches nothing. */
const ids = (r: ResultRow) => r.top.map((t, i) => t.uri ?? `\u0000${r.language}\u0000${i}`);

/**
 * For every pair of languages, per style: top-1 agreement and RankC over the facts both languages were asked.
 * A fact is (relation, sub_uri); only main-template answers count, so paraphrase runs compare like with like.
 */
export function crossLingual(rows: ResultRow[]): CrossLingualReport {
  const usable = rows.filter((r) => r.sub_uri !== null && r.template_main !== false);
  const without_ids = rows.filter((r) => r.sub_uri === null && r.template_main !== false).length;
  if (usable.length === 0)
    return {
      styles: [],
      without_ids,
      unavailable: rows.length ? 'the answers carry no Wikidata ids (stored before schema 2); rerun to compare languages' : 'no answers',
    };
  const styles: CrossLingualStyle[] = [];
  for (const g of groupBy(usable, (r) => [r.style]).values()) {
    // fact key -> language -> the first answer stored for it
    const facts = new Map<string, Map<string, ResultRow>>();
    for (const r of g) {
      const k = `${r.relation}\u0000${r.sub_uri}`;
      const m = facts.get(k) ?? facts.set(k, new Map()).get(k)!;
      if (!m.has(r.language)) m.set(r.language, r);
    }
    const languages = [...new Set(g.map((r) => r.language))].sort();
    const pairs: LanguagePair[] = [];
    for (let i = 0; i < languages.length; i++) {
      for (let j = i + 1; j < languages.length; j++) {
        const [a, b] = [languages[i], languages[j]];
        let n = 0;
        let top1 = 0;
        let rc = 0;
        for (const m of facts.values()) {
          const ra = m.get(a);
          const rb = m.get(b);
          if (!ra || !rb) continue;
          const ia = ids(ra);
          const ib = ids(rb);
          n++;
          if (ia.length && ib.length && ia[0] === ib[0]) top1++;
          rc += rankc(ia, ib);
        }
        pairs.push({ a, b, facts: n, top1: n ? top1 / n : 0, rankc: n ? rc / n : 0 });
      }
    }
    const shared = pairs.filter((p) => p.facts > 0);
    styles.push({
      style: g[0].style,
      languages,
      pairs,
      mean_top1: mean(shared.map((p) => p.top1)),
      mean_rankc: mean(shared.map((p) => p.rankc)),
    });
  }
  return { styles: styles.sort((x, y) => x.style.localeCompare(y.style)), without_ids };
}
