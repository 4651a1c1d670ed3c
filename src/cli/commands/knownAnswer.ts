import type { Command } from 'commander';
import { ExitStatus, fail } from '../../errors.js';
import { openDataset, resolveLanguages } from '../../data/mlama.js';
import { lineSubjects, readTrainingFacts } from '../../data/trainingFacts.js';
import { readResults, requireRun, withStore, type RunRecord } from '../../store/db.js';
import { datasetFingerprint } from '../../run/fingerprint.js';
import { differences } from '../../run/config.js';
import type { Dataset } from '../../data/mlama.js';
import { fmt, knownAnswerFailures, knownAnswerReport, knownAnswerSummary, summaryLine } from '../../report/knownAnswer.js';
import { renderTable } from '../../report/table.js';
import { formatOption } from '../../report/formatOption.js';
import { knownAnswerHtml, knownAnswerRows } from '../../report/knownAnswerHtml.js';
import { warnIfIncomplete, type Io } from '../io.js';

const FORMAT = formatOption(['table', 'json', 'html'] as const, { html: 'one page with the classes of facts charted' });

export function registerKnownAnswer(program: Command, io: Io): void {
  program
    .command('known-answer')
    .description("P@1 of a known-answer checkpoint's run on the facts it was trained on, trained in other languages only, and held out")
    .requiredOption('--run <ref>', 'run name, id or "latest"')
    .requiredOption('--facts <file>', "the checkpoint's training-facts.jsonl")
    .requiredOption('--data <dir>', 'the mLAMA directory the run evaluated (its lineids lead to the facts)')
    .option('--db <file>', 'results database', 'results/mlama.sqlite')
    .option(FORMAT.flags, FORMAT.help, FORMAT.parse, FORMAT.default)
    .option('--check', 'exit 1 unless trained-fact P@1 >= 0.8 (both styles) and held-out P@1 <= baseline + 5 points')
    .action((o: KnownAnswerOptions) => knownAnswerCommand(o, io));
}

export interface KnownAnswerOptions {
  run: string;
  facts: string;
  data: string;
  db: string;
  format: string;
  check?: boolean;
}

/** `mlama known-answer`: P@1 by what the checkpoint was trained on; a failed --check throws ExitStatus(1). */
export async function knownAnswerCommand(o: KnownAnswerOptions, io: Io): Promise<void> {
  const facts = readTrainingFacts(o.facts);
  await withStore(o.db, { readonly: true }, async (store) => {
    const run = requireRun(store, o.run);
    const rows = readResults(store, run.id);
    if (rows.length === 0) fail(`run "${run.name}" has no stored answers`);
    const ds = openDataset(o.data);
    refuseOtherData(run, ds, o.data);
    const report = knownAnswerReport(rows, facts, lineSubjects(ds, resolveLanguages(ds, [...new Set(rows.map((r) => r.language))])));
    if (report.unmatched) io.err(`warning: ${report.unmatched} stored answers have lineids that ${o.data} does not hold; not counted`);
    if (report.without_ids)
      io.err(`note: ${report.without_ids} answers without ids (GoogleRE) left out: their lines name no Wikidata subject, which training facts are keyed by`);
    const summary = knownAnswerSummary(report);
    const failures = knownAnswerFailures(summary, [...new Set(rows.map((r) => r.style))]);
    // A run that stopped early never asked some facts: its P@1 may look fine on what it did ask, so the check fails.
    warnIfIncomplete(io, run, rows.length);
    if (run.status !== 'complete') failures.unshift(`run "${run.name}" is ${run.status} (${rows.length}/${run.planned} answers)`);
    if (o.format === 'json') io.out(JSON.stringify({ run: run.name, ...report, summary, failures }, null, 2));
    else if (o.format === 'html') io.out(await knownAnswerHtml(run.name, o.facts, report, summary, failures));
    else {
      io.out(
        `run "${run.name}": a checkpoint trained on ${report.facts} facts (${report.pairs} (language, fact) pairs in ${o.facts}); P@1 by what it was trained on`,
      );
      const t = knownAnswerRows(report);
      io.out(renderTable(t.head, t.rows, { colour: io.tty }));
      if (report.cross_lingual.length) {
        io.out('cross-lingual agreement within each class (facts asked in two languages, by obj_uri; means over language pairs)');
        const f = (x: number | null) => (x === null ? '-' : fmt(x));
        const rows = report.cross_lingual.map((c) => [c.part, c.style, c.pairs.length, c.facts, f(c.mean_top1), f(c.mean_rankc)]);
        io.out(renderTable(['facts', 'style', 'pairs', 'facts compared', 'top-1 agreement', 'RankC'], rows, { colour: io.tty }));
      }
      if (report.mixed) io.out(`${report.mixed} answers whose subject label covers facts of different classes are not counted`);
      if (o.check)
        io.out(
          failures.length
            ? `check FAILED: ${failures.join('; ')}`
            : 'check passed: trained facts recovered (P@1 >= 0.8, both styles), held-out facts at most 5 points above the single-answer baseline',
        );
      io.out(summaryLine(summary));
    }
    if (o.check && failures.length) throw new ExitStatus(1);
  });
}

/** Lineids lead to facts only in the data the run read: other data (even one row rotated) would classify wrongly. */
function refuseOtherData(run: RunRecord, ds: Dataset, dir: string): void {
  const languages = Object.keys(run.dataset ?? {});
  // Runs stored before datasets were fingerprinted have nothing to check against.
  if (!languages.length) return;
  const diffs = differences(run.dataset, datasetFingerprint(ds, languages), languages);
  if (diffs.length) fail(`--data ${dir} is not the data run "${run.name}" evaluated: its fingerprint differs in ${diffs.join('; ')} (stored vs given)`);
}
