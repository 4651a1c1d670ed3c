import { fail } from '../errors.js';
import type { Head } from '../model/contract.js';
import { meanOfDefined } from '../stats.js';
import { METRICS, type StyleMetrics } from './metrics.js';

/** One column of the paper's table: a run (by its label) under one prompt style. */
export interface RunColumn {
  run: string;
  /** The run's label; the run's name is added where another run of the table has the same label. */
  label: string;
  style: string;
  /** The run stopped before every query was answered: its cells cover only what it stored. */
  partial: boolean;
}

/** Languages as rows, run x style as columns, one metric in each cell (null: the run has no value there). */
export interface MultiRunTable {
  /** The metric's key in the metric table (METRICS): P@1 unless `--metric` chose another. */
  metric: string;
  columns: RunColumn[];
  languages: string[];
  values: (number | null)[][];
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
  /** The head each style reads: a metric of other heads (coverage for a word head) has no value there. */
  heads?: Record<string, Head>;
  /** The run is not complete. */
  partial?: boolean;
}

/** A column request of `report --runs`: RUN alone (every style it has) or RUN:STYLE. */
export interface ColumnSpec {
  run: string;
  style: string | null;
}

/** One column request of `--runs`: RUN, or RUN:STYLE split at the last ':' (the caller first tries the whole as a run's name). */
export function parseColumn(ref: string): ColumnSpec {
  const i = ref.lastIndexOf(':');
  if (i < 0) return { run: ref, style: null };
  const [run, style] = [ref.slice(0, i), ref.slice(i + 1)];
  if (!run || !style) fail(`--runs: "${ref}" must be RUN or RUN:STYLE`);
  return { run, style };
}

/** A run's styles in the order it was run with, then any other style it stored. */
export function stylesOf(r: RunMetrics): string[] {
  const present = new Set(r.languages.map((m) => m.style));
  return [...r.styles.filter((s) => present.has(s)), ...[...present].filter((s) => !r.styles.includes(s)).sort()];
}

/** The runs' labels, each with the run's name added where two runs of the table share it. */
export function distinctLabels(runs: { run: string; label: string }[]): Map<string, string> {
  const count = new Map<string, number>();
  for (const r of runs) count.set(r.label, (count.get(r.label) ?? 0) + 1);
  return new Map(runs.map((r) => [r.run, (count.get(r.label) ?? 0) > 1 && r.label !== r.run ? `${r.label} (${r.run})` : r.label]));
}

/**
 * The mLAMA table of the mLUKE paper, over several runs: one pure pass over each run's per-language metrics.
 * `specs` pick and order the columns (default: every style of every run, in the runs' order).
 */
export function multiRunTable(runs: RunMetrics[], specs: ColumnSpec[] = runs.map((r) => ({ run: r.run, style: null })), metric = 'p_at_1'): MultiRunTable {
  const labels = distinctLabels(runs);
  const columns: RunColumn[] = [];
  for (const spec of specs) {
    const r = runs.find((x) => x.run === spec.run);
    if (!r) fail(`--runs: no run "${spec.run}" in this report`);
    const styles = stylesOf(r);
    if (spec.style !== null && !styles.includes(spec.style))
      fail(`--runs: run "${r.run}" has no answers under style "${spec.style}"; it has ${styles.join(', ') || 'none'}`);
    for (const style of spec.style === null ? styles : [spec.style]) {
      if (columns.some((c) => c.run === r.run && c.style === style)) fail(`--runs names run "${r.run}" style "${style}" twice`);
      columns.push({ run: r.run, label: labels.get(r.run)!, style, partial: !!r.partial });
    }
  }
  const shown = new Set(columns.map((c) => c.run));
  const languages = [...new Set(runs.filter((r) => shown.has(r.run)).flatMap((r) => r.languages.map((m) => m.language)))].sort();
  // A metric a style's head does not have (coverage of a word style) is undefined there, not 0.
  const heads = METRICS.find((d) => d.key === metric)?.heads ?? null;
  const cell = (c: RunColumn, lang: string) => {
    const run = runs.find((r) => r.run === c.run)!;
    const head = run.heads?.[c.style];
    if (heads && head && !heads.includes(head)) return null;
    const v = run.languages.find((m) => m.language === lang && m.style === c.style)?.[metric];
    return v === null || v === undefined ? null : Number(v);
  };
  const values = languages.map((l) => columns.map((c) => cell(c, l)));
  const average: (number | null)[] = [];
  const average_languages: number[] = [];
  columns.forEach((_, j) => {
    const xs = values.map((row) => row[j]);
    average.push(meanOfDefined(xs));
    average_languages.push(xs.filter((x) => x !== null).length);
  });
  return { metric, columns, languages, values, average, average_languages };
}
