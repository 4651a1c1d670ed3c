import type { Command } from 'commander';
import { fail } from '../../errors.js';
import { findRun, iterateResults, readResults, requireRun, withStore } from '../../store/db.js';
import { bundleOf, runReport, type RunReport } from '../../report/bundle.js';
import { parseColumn } from '../../report/multirun.js';
import { statusText } from '../../run/lease.js';
import { parseReportFormat, REPORT_FORMATS, reportFormatHelp, type ReportFormatName } from '../../report/formats.js';
import { ANSWER_FORMATS, answerLines, type AnswerFormat } from '../../report/answers.js';
import { formatOption } from '../../report/formatOption.js';
import { readRelationNames } from '../../data/relations.js';
import { parseMetric, TABLE_METRICS, tieWarnings } from '../../report/metrics.js';
import { list, selection, warnIfIncomplete, type Io } from '../io.js';
import { openOutFile, refuseOutOverDb } from '../outFile.js';
import { DEFAULT_DB } from './runs.js';
import { refuseAmbiguousRef } from '../runref.js';

const ANSWER_FORMAT_OPTION = formatOption(ANSWER_FORMATS);

export function registerReport(program: Command, io: Io): void {
  program
    .command('report')
    .description("per-language accuracy report; with --runs, the paper's table of several runs side by side")
    .option('--run <ref>', 'run name, id or "latest" (default: latest)')
    .option('--runs <list>', 'columns of one table, each RUN (every style it has) or RUN:STYLE, e.g. mbert:word,mluke:word,mluke:entity', list('--runs'))
    .option('--db <file>', 'results database', DEFAULT_DB)
    .option('--format <fmt>', reportFormatHelp(), parseReportFormat, 'table')
    .option(
      '--metric <key>',
      `the metric of the multi-run table and the HTML charts: ${TABLE_METRICS.map((d) => `${d.key} (${d.label})`).join(', ')}`,
      parseMetric,
      'p_at_1',
    )
    .option('--relations', 'also print the per-relation breakdown (table format, one run)')
    .option('--data <dir>', "dataset whose relations.jsonl names the relations (default: Wikidata's labels)")
    .option('--out <file>', 'write to a file instead of stdout')
    .action((o: ReportOptions) => reportCommand(o, io));

  program
    .command('answers')
    .description('export every stored answer (query, style, gold objects, rank, top candidates with Wikidata ids), streamed')
    .requiredOption('--run <ref>', 'run name, id or "latest"')
    .option('--languages <list>', 'only these languages', selection('--languages'))
    .option(ANSWER_FORMAT_OPTION.flags, ANSWER_FORMAT_OPTION.help, ANSWER_FORMAT_OPTION.parse, ANSWER_FORMAT_OPTION.default)
    .option('--db <file>', 'results database', DEFAULT_DB)
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--stats', 'print the records written and the peak memory (RSS) to stderr')
    .action((o: AnswersOptions) => answersCommand(o, io));
}

export interface ReportOptions {
  run?: string;
  runs?: string[];
  db: string;
  format: ReportFormatName;
  metric?: string;
  out?: string;
  relations?: boolean;
  data?: string;
}

/** `mlama report`: one run's report, or several runs side by side, in a registered format. */
export async function reportCommand(o: ReportOptions, io: Io): Promise<void> {
  if (o.run && o.runs) fail('give --run or --runs, not both');
  if (o.runs && o.runs.length === 0) fail('--runs needs at least one run name');
  if (o.out) refuseOutOverDb(o.out, o.db);
  const format = REPORT_FORMATS[o.format];
  const names = o.data ? readRelationNames(o.data) : {};
  await withStore(o.db, { readonly: true }, async (store) => {
    const reports: RunReport[] = [];
    // One report per run, however many of its styles the columns name; columns refer to it by its stored name.
    const columns = (o.runs ?? [o.run ?? 'latest']).map((ref) => {
      // A run whose name holds ':' is found by its whole name before RUN:STYLE is read.
      if (o.runs) refuseAmbiguousRef(store, ref);
      const spec = o.runs && !findRun(store, ref) ? parseColumn(ref) : { run: ref, style: null };
      const run = requireRun(store, spec.run);
      if (!reports.some((r) => r.run.id === run.id)) {
        const rows = readResults(store, run.id);
        if (rows.length === 0) fail(`run "${run.name}" has no stored answers`);
        const status = statusText(run, store.file);
        warnIfIncomplete(io, { ...run, status }, rows.length);
        const report = runReport(run, rows, format.analyses);
        reports.push({ ...report, run: { ...report.run, status } });
      }
      return { run: run.name, style: spec.style };
    });
    const dup = columns.find((c, i) => c.style === null && columns.findIndex((x) => x.run === c.run) !== i);
    if (dup) fail(`--runs names run "${dup.run}" twice`);
    for (const r of reports)
      if (r.cross_lingual?.unavailable) io.err(`note: run "${r.run.name}": cross-lingual analysis skipped: ${r.cross_lingual.unavailable}`);
      else if (r.cross_lingual?.without_ids)
        io.err(`note: run "${r.run.name}": cross-lingual analysis left out ${r.cross_lingual.without_ids} answers whose subject has no Wikidata id`);
    const text = await format.render(bundleOf(reports, names, columns, o.metric), { colour: io.tty && !o.out, relations: !!o.relations });
    for (const r of reports) for (const w of tieWarnings(r.languages)) io.err(`warning: ${reports.length > 1 ? `run "${r.run.name}": ` : ''}${w}`);
    if (o.out) {
      const file = openOutFile(o.out, 'the report');
      file.write(text.endsWith('\n') ? text : text + '\n');
      file.commit();
      io.out(`wrote ${o.out}`);
    } else io.out(text);
  });
}

export interface AnswersOptions {
  run: string;
  languages?: string[];
  format: string;
  db: string;
  out?: string;
  stats?: boolean;
}

/** `mlama answers`: every stored answer of a run, streamed. */
export async function answersCommand(o: AnswersOptions, io: Io): Promise<void> {
  if (!(ANSWER_FORMATS as readonly string[]).includes(o.format)) fail(`--format must be ${ANSWER_FORMATS.join(' or ')}, got "${o.format}"`);
  if (o.out) refuseOutOverDb(o.out, o.db);
  await withStore(o.db, { readonly: true }, async (store) => {
    const run = requireRun(store, o.run);
    if (o.languages?.length) {
      const have = new Set(
        (store.db.prepare('SELECT DISTINCT language FROM results WHERE run_id = ?').all(run.id) as { language: string }[]).map((r) => r.language),
      );
      const missing = o.languages.filter((l) => !have.has(l));
      if (missing.length) fail(`run "${run.name}" has no answers in ${missing.join(', ')}; it has ${[...have].sort().join(', ') || 'none'}`);
    }
    if (run.status !== 'complete') io.err(`warning: run "${run.name}" is ${run.status}: exporting what is stored`);
    // A signal stops the export between chunks and drops the hidden part file (the default action would leave it).
    let stop: string | undefined;
    const onSignal = (sig: NodeJS.Signals) => {
      stop ??= sig;
    };
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    for (const s of signals) process.on(s, onSignal);
    const file = o.out ? openOutFile(o.out, 'the answers') : null;
    // Lines go out in chunks of about 64 KiB: writes stay few and memory stays flat whatever the run's size.
    const emit = async (s: string) => {
      if (file === null) io.out(s);
      else file.write(s);
      await new Promise((r) => setImmediate(r));
      if (stop) fail(`answers interrupted by ${stop}${o.out ? `: ${o.out} was not written` : ''}`, 130);
    };
    let chunk = '';
    // CSV's first line is its header, not a record.
    let records = o.format === 'csv' ? -1 : 0;
    try {
      for (const line of answerLines(iterateResults(store, run.id, o.languages), o.format as AnswerFormat)) {
        chunk += line;
        records++;
        if (chunk.length >= 65536) {
          await emit(chunk);
          chunk = '';
        }
      }
      if (chunk) await emit(chunk);
      file?.commit();
    } catch (e) {
      file?.abort();
      throw e;
    } finally {
      for (const s of signals) process.off(s, onSignal);
    }
    if (o.stats) io.err(`answers: ${records} records from run "${run.name}"; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  });
}
