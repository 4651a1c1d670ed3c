import type { ResultRow } from '../store/db.js';

/** mLAMA's own evaluation skips, when it macro-averages, the relations whose name contains "date" (GoogleRE's date_of_birth). */
export const isDateRelation = (relation: string): boolean => relation.includes('date');

export interface StyleMetrics {
  language: string;
  style: string;
  queries: number;
  p_at_1: number;
  p_at_10: number;
  /** Mean over relations of P@1 (mLAMA's averaging), date relations skipped. */
  macro_p_at_1: number;
  /** Share of queries whose gold object the style can predict (entity styles; 1 for words). */
  entity_coverage: number;
  /** P@1 over covered queries only. */
  p_at_1_covered: number;
  /** Queries longer than the model's positions: not scored, counted wrong (in `queries`). */
  too_long: number;
  /** Answers decided by a tie: the gold shares the top score with another candidate, so candidate order picked. */
  ties: number;
}

export interface RelationMetrics {
  language: string;
  style: string;
  relation: string;
  queries: number;
  p_at_1: number;
  p_at_10: number;
}

/** A stored answer without a ranking (too long for the model) is wrong at every k. */
export const unranked = (r: ResultRow): boolean => r.top.length === 0;

/**
 * Whether candidate order, not the model, decided this answer: the gold's score equals the top score and another
 * candidate has it too (the gold ranked below a tied candidate, or first with a tied one right behind it).
 */
export function tieDecided(r: ResultRow): boolean {
  if (!r.covered || unranked(r)) return false;
  const best = r.top[0].score;
  return r.gold_score === best && (r.gold_rank > 1 || (r.top.length > 1 && r.top[1].score === best));
}

/** Share of a language/style's answers decided by ties above which a report warns. */
export const TIE_WARNING_SHARE = 0.05;

export function tieWarnings(ms: StyleMetrics[]): string[] {
  return ms
    .filter((m) => m.queries > 0 && m.ties / m.queries > TIE_WARNING_SHARE)
    .map((m) => `ties with the top score decide ${m.ties} of ${m.queries} ${m.language}/${m.style} answers (${((100 * m.ties) / m.queries).toFixed(1)}%): candidate order, not the model, picked them (does the tokenizer map this language to <unk>?)`);
}

export function correctAt(r: ResultRow, k: number): boolean {
  return r.covered && !unranked(r) && r.gold_rank <= k;
}

function group<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const g = m.get(k);
    if (g) g.push(r);
    else m.set(k, [r]);
  }
  return m;
}

const share = (rows: ResultRow[], f: (r: ResultRow) => boolean) => (rows.length ? rows.filter(f).length / rows.length : 0);

export function relationMetrics(rows: ResultRow[]): RelationMetrics[] {
  return [...group(rows, (r) => `${r.language}\u0000${r.style}\u0000${r.relation}`).values()]
    .map((g) => ({ language: g[0].language, style: g[0].style, relation: g[0].relation, queries: g.length, p_at_1: share(g, (r) => correctAt(r, 1)), p_at_10: share(g, (r) => correctAt(r, 10)) }))
    .sort((a, b) => a.language.localeCompare(b.language) || a.style.localeCompare(b.style) || a.relation.localeCompare(b.relation, 'en', { numeric: true }));
}

/** Per language and style: P@1 and P@10 over unique queries (micro), the relation macro average, coverage. */
export function languageMetrics(rows: ResultRow[]): StyleMetrics[] {
  const rel = relationMetrics(rows);
  return [...group(rows, (r) => `${r.language}\u0000${r.style}`).values()]
    .map((g) => {
      const rels = rel.filter((x) => x.language === g[0].language && x.style === g[0].style && !isDateRelation(x.relation));
      const covered = g.filter((r) => r.covered);
      return {
        language: g[0].language,
        style: g[0].style,
        queries: g.length,
        p_at_1: share(g, (r) => correctAt(r, 1)),
        p_at_10: share(g, (r) => correctAt(r, 10)),
        macro_p_at_1: rels.length ? rels.reduce((a, x) => a + x.p_at_1, 0) / rels.length : 0,
        entity_coverage: covered.length / g.length,
        p_at_1_covered: share(covered, (r) => correctAt(r, 1)),
        too_long: g.filter(unranked).length,
        ties: g.filter(tieDecided).length,
      };
    })
    .sort((a, b) => a.language.localeCompare(b.language) || a.style.localeCompare(b.style));
}

/** The average over languages of each style's metrics (each language weighs the same). */
export function averageOverLanguages(ms: StyleMetrics[]): StyleMetrics[] {
  return [...group(ms, (m) => m.style).values()].map((g) => {
    const mean = (f: (m: StyleMetrics) => number) => g.reduce((a, m) => a + f(m), 0) / g.length;
    return {
      language: 'average',
      style: g[0].style,
      queries: g.reduce((a, m) => a + m.queries, 0),
      p_at_1: mean((m) => m.p_at_1),
      p_at_10: mean((m) => m.p_at_10),
      macro_p_at_1: mean((m) => m.macro_p_at_1),
      entity_coverage: mean((m) => m.entity_coverage),
      p_at_1_covered: mean((m) => m.p_at_1_covered),
      too_long: g.reduce((a, m) => a + m.too_long, 0),
      ties: g.reduce((a, m) => a + m.ties, 0),
    };
  });
}
