import type { Command } from 'commander';
import { checkLanguage, ignoredIn, type Ignored, type LanguageCheck } from '../../data/check.js';
import { openDataset, resolveLanguages } from '../../data/mlama.js';
import { languageStats, type LanguageStats } from '../../data/stats.js';
import { fail } from '../../errors.js';
import { isDateRelation } from '../../report/metrics.js';
import { formatOption } from '../../report/formatOption.js';
import { renderTable } from '../../report/table.js';
import { selection, type Io } from '../io.js';

const STATS_FORMAT = formatOption(['table', 'json'] as const);
const CHECK_FORMAT = formatOption(['text', 'json'] as const);

export function registerData(program: Command, io: Io): void {
  const data = program.command('data').description('inspect an mLAMA dataset');
  data
    .command('stats')
    .description('per-language counts: relations, triples, unique queries, candidates, gold objects added')
    .requiredOption('--data <dir>', 'mLAMA 1.1 directory')
    .option('--languages <list>', 'comma-separated languages (default: all)', selection('--languages'))
    .option(STATS_FORMAT.flags, STATS_FORMAT.help, STATS_FORMAT.parse, STATS_FORMAT.default)
    .action((o: { data: string; languages?: string[]; format: string }) => dataStatsCommand(o, io));
  data
    .command('check')
    .argument('<dir>', "the mlama repository's data/ folder, its mlama1.1/ folder, or a folder of language folders")
    .description('what a run would see in an mLAMA folder: languages, relations by source, triples, candidate sets, what is left out')
    .option('--languages <list>', 'comma-separated languages (default: all)', selection('--languages'))
    .option(CHECK_FORMAT.flags, CHECK_FORMAT.help, CHECK_FORMAT.parse, CHECK_FORMAT.default)
    .action((dir: string, o: { languages?: string[]; format: string }) => dataCheckCommand({ data: dir, ...o }, io));
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

/**
 * `mlama data check DIR`: every file a run would read, read the same way (a file a run would refuse fails here
 * with the same one line), and what the run would ask of it. Exit 0 when some relation can be asked, else 2.
 */
export function dataCheckCommand(o: { data: string; languages?: string[]; format: string }, io: Io): void {
  if (o.format !== 'text' && o.format !== 'json') fail(`--format must be text or json, got "${o.format}"`);
  const ds = openDataset(o.data);
  const languages = resolveLanguages(ds, o.languages).map((l) => checkLanguage(ds, l));
  const ignored = ignoredIn(
    ds,
    languages.map((l) => l.language),
  );
  const relations = [...new Set(languages.flatMap((l) => [...l.trex, ...l.googlere]))];
  const queries = languages.reduce((n, l) => n + l.queries, 0);
  if (queries === 0)
    fail(`${o.data}: nothing a run could ask: no relation has a template, triples and a candidate set in ${languages.map((l) => l.language).join(', ')}`);
  const dates = relations.filter(isDateRelation).sort();
  const layout = { language_folders: ds.root, candidate_folder: ds.candidateRoot };
  if (o.format === 'json') {
    io.out(JSON.stringify({ data: o.data, ...layout, usable: true, languages, date_relations: dates, ignored }, null, 2));
    return;
  }
  io.out(`data ${o.data}: language folders in ${ds.root}, candidate sets in ${ds.candidateRoot}`);
  io.out(checkTable(languages, io.tty));
  for (const line of checkNotes(languages, dates, ignored)) io.out(line);
  io.out(`usable: ${languages.length} languages, ${relations.length} relations, ${queries} queries`);
}

function checkTable(languages: LanguageCheck[], colour: boolean): string {
  const head = ['language', 'TREx', 'GoogleRE', 'triples', 'queries', 'candidate sets', 'golds not in set', '[Y]<[X] templates', 'no Wikidata id'];
  const rows = languages.map((l) => [
    l.language,
    l.trex.length,
    l.googlere.length,
    l.triples,
    l.queries,
    l.candidate_sets,
    l.golds_missing,
    l.y_before_x_templates.length,
    l.triples_without_ids,
  ]);
  return renderTable(head, rows, { colour });
}

/** The lines under the table: what is named, skipped or ignored, only where there is something to say. */
function checkNotes(languages: LanguageCheck[], dates: string[], ignored: Ignored): string[] {
  const out: string[] = [];
  const per = (pick: (l: LanguageCheck) => string[]) =>
    languages
      .filter((l) => pick(l).length)
      .map((l) => `${l.language} ${pick(l).join(' ')}`)
      .join('; ');
  const list = (title: string, text: string) => text && out.push(`${title}: ${text}`);
  const google = new Map<string, number>();
  for (const l of languages) for (const r of l.googlere) google.set(r, (google.get(r) ?? 0) + 1);
  list('GoogleRE relations', [...google].map(([r, n]) => `${r} (${n} of ${languages.length} languages)`).join(', '));
  list("date relations (skipped in mLAMA's macro average)", dates.join(' '));
  list(
    '[Y]-before-[X] templates',
    per((l) => l.y_before_x_templates),
  );
  const noIds = languages.reduce((n, l) => n + l.triples_without_ids, 0);
  if (noIds) out.push(`triples without Wikidata ids: ${noIds} (asked; left out of analyses that join on ids)`);
  const golds = languages.reduce((n, l) => n + l.golds_missing, 0);
  if (golds) out.push(`gold objects missing from their candidate set: ${golds} (added to it so they can be ranked)`);
  list(
    'skipped, relation file without a template',
    per((l) => l.relations_without_template),
  );
  list(
    'ignored, template without a relation file',
    per((l) => l.templates_without_triples),
  );
  list(
    'ignored, candidate set without a relation file',
    per((l) => l.candidate_sets_unused),
  );
  const fields = Object.entries(ignored.fields).map(([f, n]) => `${f} (${n})`);
  if (ignored.blank_lines) fields.push(`blank lines (${ignored.blank_lines})`);
  list('ignored', fields.join(', '));
  return out;
}
