import type { ResultRow, RunRecord } from '../store/db.js';
import { averageOverLanguages, languageMetrics, relationMetrics } from './metrics.js';
import { reportOf, type Report } from './render.js';
import { multiRunTable, type MultiRunTable } from './multirun.js';
import { paraphraseRobustness, type ParaphraseReport } from './paraphrase.js';
import { crossLingual, type CrossLingualReport } from './crosslingual.js';
import { languageBias, type BiasReport } from './bias.js';

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
  /** Relation id -> name, from the data's relations.jsonl when given; built-in Wikidata labels otherwise. */
  relation_names: Record<string, string>;
}

/** The run's label where the store has one, else its name. */
export const runLabel = (run: RunRecord): string => ((run as RunRecord & { label?: string | null }).label ?? run.name) || run.name;

export function runReport(run: RunRecord, rows: ResultRow[], analyses: boolean): RunReport {
  const langs = languageMetrics(rows);
  const base: RunReport = { ...reportOf(run, langs, averageOverLanguages(langs), relationMetrics(rows)), label: runLabel(run) };
  if (!analyses) return base;
  return { ...base, paraphrase: paraphraseRobustness(rows), cross_lingual: crossLingual(rows), bias: languageBias(rows) };
}

export function bundleOf(runs: RunReport[], relationNames: Record<string, string> = {}): ReportBundle {
  const table = multiRunTable(
    runs.map((r) => ({
      run: r.run.name,
      label: r.label,
      styles: (r.run.options.styles as string[] | undefined) ?? [],
      languages: r.languages,
      partial: r.run.status !== 'complete',
    })),
  );
  return { runs, table, relation_names: relationNames };
}
