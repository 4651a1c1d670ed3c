import type { ResultRow, RunRecord } from '../store/db.js';
import { averageOverLanguages, languageMetrics, relationMetrics } from './metrics.js';
import { reportOf, type Report } from './render.js';
import { distinctLabels, multiRunTable, stylesOf, type ColumnSpec, type MultiRunTable } from './multirun.js';
import { differenceNotes, tableDifferences, type RunDifference } from './differences.js';
import { paraphraseRobustness, type ParaphraseReport } from './paraphrase.js';
import { crossLingual, type CrossLingualReport } from './crosslingual.js';
import { languageBias, type BiasReport } from './bias.js';
import { protocolMetrics } from './protocolMetrics.js';
import { protocolOf } from '../run/protocols.js';

/** A run's report with the research analyses; they are computed only for the formats that show them. */
export interface RunReport extends Report {
  label: string;
  paraphrase?: ParaphraseReport;
  cross_lingual?: CrossLingualReport;
  bias?: BiasReport;
}

/** Everything a report format may render: each run's report and the table of all runs side by side. */
export interface ReportBundle {
  runs: RunReport[];
  table: MultiRunTable;
  /** Runs of the table that answered other questions than its first run, each difference named. */
  differences: RunDifference[];
  /** Relation id -> name, from the data's relations.jsonl when given; built-in Wikidata labels otherwise. */
  relation_names: Record<string, string>;
}

/** The run's label where the store has one, else its name. */
export const runLabel = (run: RunRecord): string => ((run as RunRecord & { label?: string | null }).label ?? run.name) || run.name;

export function runReport(run: RunRecord, rows: ResultRow[], analyses: boolean): RunReport {
  const langs = languageMetrics(rows);
  const protocol = protocolMetrics(protocolOf(run.options.protocol as string | undefined), rows, run.harness_version);
  const base: RunReport = {
    ...reportOf(run, langs, averageOverLanguages(langs), relationMetrics(rows)),
    label: runLabel(run),
    ...(protocol ? { protocol } : {}),
  };
  if (!analyses) return base;
  return { ...base, paraphrase: paraphraseRobustness(rows), cross_lingual: crossLingual(rows), bias: languageBias(rows) };
}

export function bundleOf(given: RunReport[], relationNames: Record<string, string> = {}, columns?: ColumnSpec[], metric = 'p_at_1'): ReportBundle {
  // Every header, legend and note of every format names a run by this label: two runs never read the same.
  const labels = distinctLabels(given.map((r) => ({ run: r.run.name, label: r.label })));
  const runs = given.map((r) => ({ ...r, label: labels.get(r.run.name)! }));
  const table = multiRunTable(
    runs.map((r) => ({
      run: r.run.name,
      label: r.label,
      styles: (r.run.options.styles as string[] | undefined) ?? [],
      languages: r.languages,
      heads: r.heads,
      partial: r.run.status !== 'complete',
    })),
    columns,
    metric,
  );
  const differences = tableDifferences(
    runs.map((r) => ({ name: r.run.name, options: r.run.options, checkpoint: r.run.checkpoint, dataset: r.run.dataset ?? {} })),
  );
  return { runs, table, differences, relation_names: relationNames };
}

/** The notes every multi-run format prints: what makes columns not comparable. */
export function bundleNotes(b: ReportBundle): string[] {
  return differenceNotes(b.differences);
}

/** One run with every style it has: the single-run layouts apply; a choice of styles (RUN:STYLE) is a table. */
export function isSingle(b: ReportBundle): boolean {
  if (b.runs.length !== 1) return false;
  const r = b.runs[0];
  return (
    b.table.columns.length ===
    stylesOf({ run: r.run.name, label: r.label, styles: (r.run.options.styles as string[] | undefined) ?? [], languages: r.languages }).length
  );
}
