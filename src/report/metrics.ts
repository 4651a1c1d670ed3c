import type { Head } from '../model/contract.js';
import type { ResultRow } from '../store/db.js';

/** mLAMA's own evaluation skips the date relations when it macro-averages. */
export const DATE_RELATIONS = new Set(['P569', 'P570']);

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
  /** 'mean': over the answers that count; 'relation-macro': the mean over relations (date relations skipped) of the per-relation mean. */
  aggregate: 'mean' | 'relation-macro';
  perQuery(r: ResultRow): number | null;
  /** Shown in the terminal and HTML tables (the rest are in JSON and CSV). */
  inTable: boolean;
}

export function correctAt(r: ResultRow, k: number): boolean {
  return r.covered && r.gold_rank <= k;
}

/** The best gold's score equals another candidate's among the stored top answers: the rank was decided by candidate order. */
export function tiedAtGold(r: ResultRow): boolean {
  const golds = new Set(r.golds);
  return r.top.some((t) => !golds.has(t.label) && t.score === r.gold_score);
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
    description: 'mean reciprocal rank of the best-ranked gold object (0 for an uncovered query)',
    heads: null,
    higherIsBetter: true,
    aggregate: 'mean',
    perQuery: (r) => (r.covered ? 1 / r.gold_rank : 0),
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
    description: "share of queries whose best gold's score ties another candidate's among the stored top answers (broken by candidate order)",
    heads: null,
    higherIsBetter: false,
    aggregate: 'mean',
    perQuery: (r) => (tiedAtGold(r) ? 1 : 0),
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
  macro_p_at_1: number;
  /** Share of queries whose gold object the style can predict (entity styles; 1 for words). */
  entity_coverage: number;
  p_at_1_covered: number;
  [metric: string]: string | number;
}

export interface RelationMetrics {
  language: string;
  style: string;
  relation: string;
  queries: number;
  p_at_1: number;
  p_at_10: number;
  [metric: string]: string | number;
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

/** The mean of a metric over the answers that count for it (0 when none does). */
function mean(def: MetricDef, rows: ResultRow[]): number {
  let sum = 0;
  let n = 0;
  for (const r of rows) {
    const v = def.perQuery(r);
    if (v === null) continue;
    sum += v;
    n++;
  }
  return n ? sum / n : 0;
}

/** A metric's value over one group of answers (one language and style), by its aggregation. */
export function aggregate(def: MetricDef, rows: ResultRow[]): number {
  if (def.aggregate === 'mean') return mean(def, rows);
  const rels = [...group(rows.filter((r) => !DATE_RELATIONS.has(r.relation)), (r) => r.relation).values()];
  return rels.length ? rels.reduce((a, g) => a + mean(def, g), 0) / rels.length : 0;
}

const byPlace = <T extends { language: string; style: string }>(a: T, b: T) => a.language.localeCompare(b.language) || a.style.localeCompare(b.style);

export function relationMetrics(rows: ResultRow[]): RelationMetrics[] {
  const defs = METRICS.filter((m) => m.aggregate === 'mean' && m.heads === null);
  return [...group(rows, (r) => `${r.language}\u0000${r.style}\u0000${r.relation}`).values()]
    .map((g) => ({ language: g[0].language, style: g[0].style, relation: g[0].relation, queries: g.length, ...Object.fromEntries(defs.map((d) => [d.key, aggregate(d, g)])) }) as RelationMetrics)
    .sort((a, b) => byPlace(a, b) || a.relation.localeCompare(b.relation, 'en', { numeric: true }));
}

/** Per language and style: every metric of the table over unique queries. */
export function languageMetrics(rows: ResultRow[]): StyleMetrics[] {
  return [...group(rows, (r) => `${r.language}\u0000${r.style}`).values()]
    .map((g) => ({ language: g[0].language, style: g[0].style, queries: g.length, ...Object.fromEntries(METRICS.map((d) => [d.key, aggregate(d, g)])) }) as StyleMetrics)
    .sort(byPlace);
}

/** The average over languages of each style's metrics (each language weighs the same). */
export function averageOverLanguages(ms: StyleMetrics[]): StyleMetrics[] {
  return [...group(ms, (m) => m.style).values()].map((g) => {
    const avg = (key: string) => g.reduce((a, m) => a + Number(m[key]), 0) / g.length;
    return { language: 'average', style: g[0].style, queries: g.reduce((a, m) => a + m.queries, 0), ...Object.fromEntries(METRICS.map((d) => [d.key, avg(d.key)])) } as StyleMetrics;
  });
}
