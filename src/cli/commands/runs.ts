import type { Command } from 'commander';
import { ExitStatus, fail } from '../../errors.js';
import { evaluate } from '../../run/evaluate.js';
import type { RunContext } from '../../run/context.js';
import { DEFAULT_DB, RUN_OPTIONS, type RunCommandOptions } from '../../run/config.js';
import { CompletedMeanwhile, listRuns, readResults, withStore } from '../../store/db.js';
import { averageOverLanguages, languageMetrics, tieWarnings } from '../../report/metrics.js';
import { renderReportTable, reportOf } from '../../report/render.js';
import { registerCompare } from './compare.js';
import { withBudget } from './budget.js';
import { progressBars } from '../../report/progress.js';
import { renderTable } from '../../report/table.js';
import { declareOptions, stopOnClosedPipe, type Io } from '../io.js';
import { shardFromEnv } from './shard.js';
import { liveHolder, statusText } from '../../run/lease.js';
import { formatOption } from '../../report/formatOption.js';
import { precisionNote } from '../../report/precision.js';
import { lookupLine, shardLine } from '../../report/render.js';

const TABLE_OR_JSON = formatOption(['table', 'json'] as const);

export { DEFAULT_DB };
export { compareCommand, type CompareOptions } from './compare.js';

export function registerRuns(program: Command, io: Io): void {
  declareOptions(program.command('run').description('evaluate a checkpoint on mLAMA and store every answer'), RUN_OPTIONS).action(
    (o: RunCommandOptions, cmd: Command) => runCommand({ ...o, given: Object.keys(o).filter((k) => cmd.getOptionValueSource(k) === 'cli') }, io),
  );

  registerCompare(program, io);

  program
    .command('runs')
    .description('list the runs in a results database')
    .option('--db <file>', 'results database', DEFAULT_DB)
    .option(TABLE_OR_JSON.flags, TABLE_OR_JSON.help, TABLE_OR_JSON.parse, TABLE_OR_JSON.default)
    .action((o: { db: string; format: string }) => runsCommand(o, io));
}

/** `mlama run`: evaluates, stores every answer and prints the report; an interrupted run throws ExitStatus(130). */
export async function runCommand(o: RunCommandOptions, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!o.resume)
    for (const k of ['model', 'data'] as const) if (!o[k]) fail(`required option '--${k} <dir>' not specified (or continue a run with --resume NAME)`);
  if (o.resume !== undefined && o.name !== undefined && o.name !== o.resume)
    fail(`--name ${o.name} with --resume ${o.resume}: a resumed run keeps its name; leave out --name (or start a new run under that name without --resume)`);
  const fromEnv = o.shard ? undefined : shardFromEnv(env);
  // Absent `given` means every option passed (RunOptions): keep that meaning when the shard is added to it.
  const passed = o.given ?? Object.keys(o).filter((k) => o[k as keyof RunCommandOptions] !== undefined);
  if (fromEnv) o = { ...o, shard: fromEnv, given: [...passed, 'shard'] };
  // SIGTERM (kill, Slurm preemption and requeue) and SIGHUP (a closed terminal) stop the run as Ctrl-C does.
  // Only a second Ctrl-C aborts: a scheduler may signal every process of a job, so a repeated SIGTERM is not a
  // user's second request, and it follows up with SIGKILL itself when the grace time is over.
  let stop = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop) {
      if (sig === 'SIGINT') process.exit(130);
      return;
    }
    stop = true;
    io.err(`\n${sig === 'SIGINT' ? '' : `${sig}: `}stopping after the current batch${sig === 'SIGINT' ? ' (Ctrl-C again to abort)' : ''}...`);
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);
  const releasePipe = stopOnClosedPipe(() => {
    stop = true;
  });
  try {
    let context: RunContext | undefined;
    if (o.budget !== undefined) ({ o, context } = await withBudget(o, io, () => stop));
    await scoreAndReport(o, io, () => stop, context);
  } finally {
    for (const s of signals) process.off(s, onSignal);
    releasePipe();
  }
}

/** The run itself, once its options are final: evaluate, store, print the report; an interrupted run throws ExitStatus(130). */
async function scoreAndReport(o: RunCommandOptions, io: Io, stopped: () => boolean, context?: RunContext): Promise<void> {
  await withStore(o.db, { busyTimeoutMs: o.busyTimeout, createLate: true }, async (store) => {
    const outcome = await evaluate(
      store,
      o,
      progressBars(io.tty, (s) => io.err(s)),
      stopped,
      (line) => io.out(line),
      context,
    );
    for (const w of new Set(outcome.warnings)) io.err(`warning: ${w}`);
    const run = outcome.run;
    if (outcome.stored === 0 && run.status === 'complete' && o.resume) {
      io.out(`run "${run.name}" is already complete; nothing to do`);
      return;
    }
    const rows = readResults(store, run.id);
    const langs = languageMetrics(rows);
    io.out(renderReportTable(reportOf(run, langs, averageOverLanguages(langs), []), io.tty));
    for (const w of tieWarnings(langs)) io.err(`warning: ${w}`);
    io.out(`run "${run.name}" ${run.status}: ${rows.length}/${run.planned} answers stored in ${o.db}`);
    if (outcome.shard) io.out(shardLine(outcome.shard));
    // The run's own options: on --resume NAME the fallback comes from the stored run, not from this command line.
    if (outcome.links) io.out(lookupLine(run.options.fallback === true, outcome.links));
    if (outcome.interrupted) {
      io.err(`interrupted: resume with --resume ${run.name}`);
      throw new ExitStatus(130);
    }
  }).catch((e) => {
    // Another resume finished the run while this one loaded its inputs: the outcome the user asked for.
    if (!(e instanceof CompletedMeanwhile)) throw e;
    io.out(e.message);
  });
}

/** `mlama runs`: the runs of a results database, as a table or JSON. */
export async function runsCommand(o: { db: string; format: string }, io: Io): Promise<void> {
  if (!['table', 'json'].includes(o.format)) fail(`--format must be table or json, got "${o.format}"`);
  await withStore(o.db, { readonly: true }, (store) => {
    // A `running` run whose holder is gone (killed, or gave up on a busy database) says so: --resume takes it.
    const runs = listRuns(store).map((r) => ({
      ...r,
      held_by: liveHolder(r, store.file),
    }));
    if (o.format === 'json') {
      const json = runs.map((r) => ({
        id: r.id,
        name: r.name,
        label: r.label ?? null,
        status: r.status,
        held_by: r.held_by,
        answers: r.stored,
        planned: r.planned,
        model: r.model_path ?? null,
        data: r.data_path ?? null,
        options: r.options,
        random_weights: r.random_weights,
        harness_version: r.harness_version,
        started_at: r.started_at,
        finished_at: r.finished_at,
      }));
      io.out(JSON.stringify(json, null, 2));
      return;
    }
    io.out(
      renderTable(
        ['id', 'name', 'status', 'answers', 'planned', 'styles', 'started', 'label', 'model', 'data'],
        runs.map((r) => [
          r.id,
          r.name,
          statusText(r, store.file),
          r.stored,
          r.planned,
          JSON.stringify(r.options.styles) + precisionNote(r.options),
          r.started_at,
          r.label ?? '',
          r.model_path ?? '',
          r.data_path ?? '',
        ]),
        { colour: io.tty },
      ),
    );
  });
}
