import type { Command } from 'commander';
import { ExitStatus, fail } from '../../errors.js';
import { openDataset, resolveLanguages } from '../../data/mlama.js';
import { lineSubjects, readTrainingFacts } from '../../data/trainingFacts.js';
import { readResults, requireRun, withStore } from '../../store/db.js';
import { fmt, knownAnswerFailures, knownAnswerReport, knownAnswerSummary, summaryLine } from '../../report/knownAnswer.js';
import { renderTable } from '../../report/table.js';
import { warnIfIncomplete, type Io } from '../io.js';

export function registerKnownAnswer(program: Command, io: Io): void {
  program
    .command('known-answer')
    .description("P@1 of a known-answer checkpoint's run on the facts it was trained on, trained in other languages only, and held out")
    .requiredOption('--run <ref>', 'run name, id or "latest"')
    .requiredOption('--facts <file>', "the checkpoint's training-facts.jsonl")
    .requiredOption('--data <dir>', 'the mLAMA directory the run evaluated (its lineids lead to the facts)')
    .option('--db <file>', 'results database', 'results/mlama.sqlite')
    .option('--format <fmt>', 'table | json', 'table')
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
  if (!['table', 'json'].includes(o.format)) fail(`--format must be table or json, got "${o.format}"`);
  const facts = readTrainingFacts(o.facts);
  await withStore(o.db, { readonly: true }, (store) => {
    const run = requireRun(store, o.run);
    const rows = readResults(store, run.id);
    if (rows.length === 0) fail(`run "${run.name}" has no stored answers`);
    const ds = openDataset(o.data);
    const report = knownAnswerReport(rows, facts, lineSubjects(ds, resolveLanguages(ds, [...new Set(rows.map((r) => r.language))])));
    if (report.unmatched) io.err(`warning: ${report.unmatched} stored answers have lineids that ${o.data} does not hold; not counted`);
    const summary = knownAnswerSummary(report);
    const failures = knownAnswerFailures(summary);
    // A run that stopped early never asked some facts: its P@1 may look fine on what it did ask, so the check fails.
    warnIfIncomplete(io, run, rows.length);
    if (run.status !== 'complete') failures.unshift(`run "${run.name}" is ${run.status} (${rows.length}/${run.planned} answers)`);
    if (o.format === 'json') io.out(JSON.stringify({ run: run.name, ...report, summary, failures }, null, 2));
    else {
      io.out(
        `run "${run.name}": a checkpoint trained on ${report.facts} facts (${report.pairs} (language, fact) pairs in ${o.facts}); P@1 by what it was trained on`,
      );
      const styles = [...new Set(report.cells.map((c) => c.style))].sort((a, b) => (a === 'word' ? -1 : b === 'word' ? 1 : a.localeCompare(b)));
      const keys = [...new Set(report.cells.map((c) => `${c.part}\u0000${c.language}`))];
      const table = keys.map((k) => {
        const [part, language] = k.split('\u0000');
        const of = (s: string) => report.cells.find((c) => c.part === part && c.language === language && c.style === s);
        const base = part === 'held-out' ? report.baseline.find((b) => b.language === language) : undefined;
        return [part, language, of(styles[0])?.queries ?? 0, ...styles.map((s) => fmt(of(s)?.p_at_1 ?? NaN)), base ? fmt(base.p_at_1) : '-'];
      });
      io.out(renderTable(['facts', 'language', 'queries', ...styles.map((s) => `${s} P@1`), 'single-answer baseline'], table, { colour: io.tty }));
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
