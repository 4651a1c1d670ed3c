import { fail } from '../errors.js';
import type { Head } from '../model/contract.js';
import type { ResultRow } from '../store/db.js';
import { groupBy, meanOfDefined } from '../stats.js';

/** mLAMA's own evaluation skips, when it macro-averages, the relations whose name contains "date" (GoogleRE's date_of_birth). */
export const isDateRelation = (relation: string): boolean => relation.includes('date');

/** The ks the authors' script prints hits@k for. */
export const P_AT_K = [1, 5, 10, 100] as const;

/**
 * A metric, defined once: its value on one stored answer (null: the answer does not count, e.g. P@1 covered on an
 * uncovered query), how answers aggregate, and which heads it is reported for (null: every head). Reports, CSV
 * and JSON read their columns from this table.
 */
export interface MetricDef {
  key: string;
  label: string;
  description: string;
  heads: readonly Head[] | null;
  higherIsBetter: boolean;
  /**
   * 'mean': over the answers that count; 'relation-macro': the mean over relations (date relations skipped) of the
   * per-relation mean; 'count': how many answers have it (summed, not averaged, over languages).
   */
  aggregate: 'mean' | 'relation-macro' | 'count';
  perQuery(r: ResultRow): number | null;
  /** Shown in the terminal and HTML tables (the rest are in JSON and CSV). */
  inTable: boolean;
  /**
   * P@k's k: the metric is the share of answers with a hit at rank k, a 0/1 value on every answer, so `compare`
   * pairs two runs' answers on it (McNemar) and sets aside the hits within the tolerance of rank k's boundary.
   * Absent: not such a value (a mean of ranks, a macro average, a share of some answers only); compare refuses it.
   */
  hitAt?: number;
}

/** A stored answer without a ranking (too long for the model) is wrong at every k. */
export const unranked = (r: ResultRow): boolean => r.top.length === 0;

export function correctAt(r: ResultRow, k: number): boolean {
  return r.covered && !unranked(r) && r.gold_rank <= k;
}

/**
 * Whether candidate order, not the model, decided this answer: the gold's score is the top score and a candidate
 * that is not a gold has it too. The scorer's stored flag (`tie`: a non-gold candidate has the best gold's exact
 * score) says the second part; answers stored before that flag fall back on the stored top list (a tie that
 * reaches past it is not seen).
 */
export function tieDecided(r: ResultRow): boolean {
  if (!r.covered || unranked(r)) return false;
  const best = r.top[0].score;
  if (r.gold_score !== best) return false;
  return r.tie ?? r.top.some((t) => t.score === best && !r.golds.includes(t.label));
}

/** Share of a language/style's answers decided by ties above which a report warns. */
export const TIE_WARNING_SHARE = 0.05;

export function tieWarnings(ms: StyleMetrics[]): string[] {
  return ms
    .filter((m) => m.queries > 0 && Number(m.ties) / m.queries > TIE_WARNING_SHARE)
    .map(
      (m) =>
        `ties with the top score decide ${m.ties} of ${m.queries} ${m.language}/${m.style} answers (${((100 * Number(m.ties)) / m.queries).toFixed(1)}%): candidate order, not the model, picked them (does the tokenizer map this language to <unk>?)`,
    );
}

const pAt = (k: number): MetricDef => ({
  key: `p_at_${k}`,
  label: `P@${k}`,
  description: `share of queries whose best-ranked gold object ranks within ${k}`,
  heads: null,
  higherIsBetter: true,
  aggregate: 'mean',
  perQuery: (r) => (correctAt(r, k) ? 1 : 0),
  inTable: k === 1 || k === 10,
  hitAt: k,
});

export const METRICS: readonly MetricDef[] = [
  ...P_AT_K.map(pAt),
  {
    key: 'macro_p_at_1',
    label: 'macro P@1',
    description: "mean over relations of P@1 (mLAMA's averaging), date relations skipped",
    heads: null,
    higherIsBetter: true,
    aggregate: 'relation-macro',
    perQuery: (r) => (correctAt(r, 1) ? 1 : 0),
    inTable: false,
  },
  {
    key: 'mrr',
    label: 'MRR',
    description: 'mean reciprocal rank of the best-ranked gold object (0 for an uncovered or unscored query)',
    heads: null,
    higherIsBetter: true,
    aggregate: 'mean',
    // An unscored (too long) answer stores the rank past the last candidate; it is wrong, as at every k.
    perQuery: (r) => (r.covered && !unranked(r) ? 1 / r.gold_rank : 0),
    inTable: false,
  },
  {
    key: 'entity_coverage',
    label: 'coverage',
    description: 'share of queries whose gold object the entity head can predict (it has an entity id)',
    heads: ['entity'],
    higherIsBetter: true,
    aggregate: 'mean',
    perQuery: (r) => (r.covered ? 1 : 0),
    inTable: true,
  },
  {
    key: 'p_at_1_covered',
    label: 'P@1 covered',
    description: 'P@1 over the covered queries only',
    heads: ['entity'],
    higherIsBetter: true,
    aggregate: 'mean',
    perQuery: (r) => (r.covered ? (correctAt(r, 1) ? 1 : 0) : null),
    inTable: true,
  },
  {
    key: 'ties',
    label: 'ties',
    description: 'answers decided by a tie: the gold shares the top score with a candidate that is not a gold, so candidate order picked',
    heads: null,
    higherIsBetter: false,
    aggregate: 'count',
    perQuery: (r) => (tieDecided(r) ? 1 : 0),
    inTable: false,
  },
  {
    key: 'too_long',
    label: 'too long',
    description: "queries longer than the model's positions: not scored, counted wrong at every k",
    heads: null,
    higherIsBetter: false,
    aggregate: 'count',
    perQuery: (r) => (unranked(r) ? 1 : 0),
    inTable: false,
  },
];

export function metricsFor(head: Head): MetricDef[] {
  return METRICS.filter((m) => m.heads === null || m.heads.includes(head));
}

/** One style in one language (or the average): every metric of the table, by key. */
export interface StyleMetrics {
  language: string;
  style: string;
  queries: number;
  p_at_1: number;
  p_at_10: number;
  /** Null where every relation is a date relation (skipped): undefined, not 0. */
  macro_p_at_1: number | null;
  /** Share of queries whose gold object the style can predict (entity styles; 1 for words). */
  entity_coverage: number;
  /** Null where no query is covered: undefined, not 0. */
  p_at_1_covered: number | null;
  /** Queries longer than the model's positions: not scored, counted wrong (in `queries`). */
  too_long: number;
  /** Answers decided by a tie (see tieDecided). */
  ties: number;
  [metric: string]: string | number | null;
}

export interface RelationMetrics {
  language: string;
  style: string;
  relation: string;
  queries: number;
  p_at_1: number;
  p_at_10: number;
  [metric: string]: string | number | null;
}

/**
 * The mean of a metric over the answers that count for it; null when none does (P@1 over covered queries of a
 * language with none covered is undefined, not 0, and an average must not count it as 0).
 */
const metricMean = (def: MetricDef, rows: ResultRow[]): number | null => meanOfDefined(rows.map((r) => def.perQuery(r)));

/** A metric's value over one group of answers (one language and style), by its aggregation. */
export function aggregate(def: MetricDef, rows: ResultRow[]): number | null {
  if (def.aggregate === 'mean') return metricMean(def, rows);
  if (def.aggregate === 'count') return rows.reduce((a, r) => a + (def.perQuery(r) ?? 0), 0);
  const rels = [
    ...groupBy(
      rows.filter((r) => !isDateRelation(r.relation)),
      (r) => [r.relation],
    ).values(),
  ];
  return meanOfDefined(rels.map((g) => metricMean(def, g)));
}

const byPlace = <T extends { language: string; style: string }>(a: T, b: T) => a.language.localeCompare(b.language) || a.style.localeCompare(b.style);

export function relationMetrics(rows: ResultRow[]): RelationMetrics[] {
  const defs = METRICS.filter((m) => m.aggregate === 'mean' && m.heads === null);
  return [...groupBy(rows, (r) => [r.language, r.style, r.relation]).values()]
    .map(
      (g) =>
        ({
          language: g[0].language,
          style: g[0].style,
          relation: g[0].relation,
          queries: g.length,
          ...Object.fromEntries(defs.map((d) => [d.key, aggregate(d, g)])),
        }) as RelationMetrics,
    )
    .sort((a, b) => byPlace(a, b) || a.relation.localeCompare(b.relation, 'en', { numeric: true }));
}

/** Per language and style: every metric of the table over unique queries. */
export function languageMetrics(rows: ResultRow[]): StyleMetrics[] {
  return [...groupBy(rows, (r) => [r.language, r.style]).values()]
    .map(
      (g) =>
        ({
          language: g[0].language,
          style: g[0].style,
          queries: g.length,
          ...Object.fromEntries(METRICS.map((d) => [d.key, aggregate(d, g)])),
        }) as StyleMetrics,
    )
    .sort(byPlace);
}

/**
 * The average over languages of each style's metrics (each language weighs the same); a mean over the languages
 * where the metric is defined (null: none), so a language without covered queries does not count as 0.
 */
export function averageOverLanguages(ms: StyleMetrics[]): StyleMetrics[] {
  return [...groupBy(ms, (m) => [m.style]).values()].map((g) => {
    const sum = (key: string) => g.reduce((a, m) => a + Number(m[key]), 0);
    const avg = (d: MetricDef) => (d.aggregate === 'count' ? sum(d.key) : meanOfDefined(g.map((m) => m[d.key])));
    return { language: 'average', style: g[0].style, queries: sum('queries'), ...Object.fromEntries(METRICS.map((d) => [d.key, avg(d)])) } as StyleMetrics;
  });
}

/** The metrics a table of languages can average (shares, not counts): what `report --metric` may choose. */
export const TABLE_METRICS: readonly MetricDef[] = METRICS.filter((d) => d.aggregate !== 'count');

/** The option parser of --metric: a key of TABLE_METRICS, else one line naming them. */
export function parseMetric(value: string): string {
  if (!TABLE_METRICS.some((d) => d.key === value)) fail(`--metric must be one of ${TABLE_METRICS.map((d) => d.key).join(', ')}, got "${value}"`);
  return value;
}

export const metricDef = (key: string): MetricDef => METRICS.find((d) => d.key === key) ?? fail(`no metric "${key}"`);

/** The metrics `compare` pairs per answer: those with a hit at a rank (hitAt), by key. */
export const COMPARE_METRICS: readonly MetricDef[] = METRICS.filter((d) => d.hitAt !== undefined);

/** A key of COMPARE_METRICS, else one line (prefixed by `where`: the flag or the file and field) naming them. */
export function compareMetric(value: unknown, where = '--metric'): MetricDef {
  const def = COMPARE_METRICS.find((d) => d.key === value);
  if (!def)
    fail(`${where} must be one of ${COMPARE_METRICS.map((d) => d.key).join(', ')} (compare pairs per-answer hits at a rank), got ${JSON.stringify(value)}`);
  return def;
}
