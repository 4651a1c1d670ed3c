import type { ResultRow } from '../store/db.js';
import { averageOverLanguages, languageMetrics } from './metrics.js';
import { mean } from '../stats.js';

/** Of the (style, query) answers both runs hold, how many rank the same candidate first. */
export function top1Agreement(a: ResultRow[], b: ResultRow[]): { compared: number; same: number } {
  const key = (r: ResultRow) => JSON.stringify([r.style, r.language, r.relation, r.template, r.subject]);
  const first = new Map(b.map((r) => [key(r), r.top[0]?.label ?? null]));
  let compared = 0;
  let same = 0;
  for (const r of a) {
    if (!first.has(key(r))) continue;
    compared++;
    if ((r.top[0]?.label ?? null) === first.get(key(r))) same++;
  }
  return { compared, same };
}

/** Each style's P@1 as the report's "average (languages)" row gives it. */
export function p1ByStyle(rows: ResultRow[]): Record<string, number> {
  return Object.fromEntries(averageOverLanguages(languageMetrics(rows)).map((m) => [m.style, m.p_at_1]));
}

/** P@1 over the styles: the mean of their report averages, each style weighing the same; null with no style. */
export function p1OverStyles(rows: ResultRow[]): number | null {
  return mean(Object.values(p1ByStyle(rows)));
}

/** The summary line of `make int8-check`: P@1 at both precisions, their difference (int8 minus float32), top-1 agreement. */
export function int8Line(float32: ResultRow[], int8: ResultRow[]): string {
  const a = p1OverStyles(float32);
  const b = p1OverStyles(int8);
  const t = top1Agreement(int8, float32);
  const f = (x: number | null) => (x === null ? '-' : x.toFixed(4));
  return `int8: p1_float32=${f(a)} p1_int8=${f(b)} p1_diff=${f(a === null || b === null ? null : b - a)} top1_agreement=${f(t.compared ? t.same / t.compared : 0)}`;
}

/** The precision a run scored at, only when it is not float32 (runs stored before the option existed ran float32). */
export function precisionNote(options: Record<string, unknown>, sep = ' '): string {
  const p = options.precision;
  return typeof p === 'string' && p !== 'float32' ? `${sep}precision ${p}` : '';
}
