import { meanOfDefined } from '../stats.js';
import type { StyleMetrics } from './metrics.js';

/** One column of the paper's table: a run (by its label) under one prompt style. */
export interface RunColumn {
  run: string;
  label: string;
  style: string;
  /** The run stopped before every query was answered: its cells cover only what it stored. */
  partial: boolean;
}

/** Languages as rows, run x style as columns, P@1 in each cell (null: the run has no answers there). */
export interface MultiRunTable {
  columns: RunColumn[];
  languages: string[];
  p_at_1: (number | null)[][];
  /** Mean over the languages a column has, each language weighing the same. */
  average: (number | null)[];
  /** How many languages each column's average covers. */
  average_languages: number[];
}

export interface RunMetrics {
  run: string;
  label: string;
  styles: string[];
  languages: StyleMetrics[];
  /** The run is not complete. */
  partial?: boolean;
}

/** The mLAMA table of the mLUKE paper, over several runs: one pure pass over each run's per-language metrics. */
export function multiRunTable(runs: RunMetrics[]): MultiRunTable {
  const columns: RunColumn[] = [];
  for (const r of runs) {
    const present = new Set(r.languages.map((m) => m.style));
    const styles = [...r.styles.filter((s) => present.has(s)), ...[...present].filter((s) => !r.styles.includes(s)).sort()];
    for (const style of styles) columns.push({ run: r.run, label: r.label, style, partial: !!r.partial });
  }
  const languages = [...new Set(runs.flatMap((r) => r.languages.map((m) => m.language)))].sort();
  const cell = (c: RunColumn, lang: string) =>
    runs.find((r) => r.run === c.run)!.languages.find((m) => m.language === lang && m.style === c.style)?.p_at_1 ?? null;
  const p_at_1 = languages.map((l) => columns.map((c) => cell(c, l)));
  const average: (number | null)[] = [];
  const average_languages: number[] = [];
  columns.forEach((_, j) => {
    const xs = p_at_1.map((row) => row[j]);
    average.push(meanOfDefined(xs));
    average_languages.push(xs.filter((x) => x !== null).length);
  });
  return { columns, languages, p_at_1, average, average_languages };
}
