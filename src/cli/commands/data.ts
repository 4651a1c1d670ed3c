import type { Command } from 'commander';
import { openDataset, resolveLanguages } from '../../data/mlama.js';
import { languageStats, type LanguageStats } from '../../data/stats.js';
import { renderTable } from '../../report/table.js';
import { selection, type Io } from '../io.js';

export function registerData(program: Command, io: Io): void {
  const data = program.command('data').description('inspect an mLAMA dataset');
  data
    .command('stats')
    .description('per-language counts: relations, triples, unique queries, candidates, gold objects added')
    .requiredOption('--data <dir>', 'mLAMA 1.1 directory')
    .option('--languages <list>', 'comma-separated languages (default: all)', selection('--languages'))
    .option('--format <fmt>', 'table | json', 'table')
    .action((o: { data: string; languages?: string[]; format: string }) => dataStatsCommand(o, io));
}

/** `mlama data stats`: per-language counts of a dataset. */
export function dataStatsCommand(o: { data: string; languages?: string[]; format: string }, io: Io): void {
  const ds = openDataset(o.data);
  const warnings: string[] = [];
  const stats: LanguageStats[] = resolveLanguages(ds, o.languages).map((l) => languageStats(ds, l, (w) => warnings.push(w)));
  for (const w of warnings) io.err(`warning: ${w}`);
  if (o.format === 'json') {
    io.out(JSON.stringify({ data: o.data, languages: stats, warnings }, null, 2));
    return;
  }
  const head = ['language', 'relations', 'triples', 'queries', 'candidates', 'gold added', '[Y]<[X] templates', 'no template'];
  const rows = stats.map((s) => [
    s.language,
    s.relations,
    s.triples,
    s.queries,
    s.candidates,
    s.gold_added,
    s.y_before_x_templates,
    s.relations_without_template,
  ]);
  io.out(renderTable(head, rows, { colour: io.tty }));
}
