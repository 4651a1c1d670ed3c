import type { Command } from 'commander';
import { ExitStatus, fail } from '../../errors.js';
import { evaluate, type RunOptions } from '../../run/evaluate.js';
import { listRuns, readResults, requireRun, withStore } from '../../store/db.js';
import { averageOverLanguages, languageMetrics, tieWarnings } from '../../report/metrics.js';
import { compareTable, renderReportTable, reportOf } from '../../report/render.js';
import { COMPARABLE_OPTIONS, gateGaps, inputDifferences, pairedDeltas } from '../../report/compare.js';
import { progressBars } from '../../report/progress.js';
import { renderTable } from '../../report/table.js';
import { points, positiveInt, querySelectionOptions, runName, threadCount, type Io } from '../io.js';
import { parseShard } from './shard.js';
import { liveHolder } from '../../run/lease.js';
import { lookupLine, shardLine } from '../../report/render.js';

export const DEFAULT_DB = 'results/mlama.sqlite';

export function registerRuns(program: Command, io: Io): void {
  querySelectionOptions(
    program
      .command('run')
      .description('evaluate a checkpoint on mLAMA and store every answer')
      .option('--model <dir>', 'checkpoint directory (required unless --resume)')
      .option('--data <dir>', 'mLAMA 1.1 directory (required unless --resume)'),
  )
    .option('--name <name>', 'run name (default: run-<timestamp>)', runName)
    .option('--label <text>', 'a note stored with the run, shown by runs and reports')
    .option('--resume <name>', 'continue an interrupted run with its stored model, data and options; refused if inputs changed')
    .option('--db <file>', 'results database', DEFAULT_DB)
    .option('--batch-size <n>', 'rows per batch at most', positiveInt, 64)
    .option('--token-budget <n>', 'padded tokens per batch at most', positiveInt, 4096)
    .option('--threads <n>', 'onnxruntime intra-op threads (default: all cores; at most 4x the cores)', threadCount)
    .option('--device <d>', 'cpu | cuda', 'cpu')
    .option('--shard <i/n>', 'run shard i of n (default from SLURM_ARRAY_TASK_ID/COUNT)')
    .option('--busy-timeout <ms>', 'wait this long for another writer of the database before giving up', positiveInt, 10000)
    .action(async (o: RunOptions & { db: string; shard?: string; device: string; busyTimeout: number }, cmd: Command) => {
      if (!o.resume)
        for (const k of ['model', 'data'] as const) if (!o[k]) fail(`required option '--${k} <dir>' not specified (or continue a run with --resume NAME)`);
      const given = Object.keys(o).filter((k) => cmd.getOptionValueSource(k) === 'cli');
      if (o.device !== 'cpu' && o.device !== 'cuda') fail(`--device must be cpu or cuda, got "${o.device}"`);
      const shard = parseShard(o.shard as string | undefined, process.env);
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
      await withStore(o.db, { busyTimeoutMs: o.busyTimeout }, async (store) => {
        const outcome = await evaluate(
          store,
          { ...o, shard, device: o.device as 'cpu' | 'cuda', given },
          progressBars(io.tty, (s) => io.err(s)),
          () => stop,
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
        if (outcome.links) io.out(lookupLine(o.fallback, outcome.links));
        if (outcome.interrupted) {
          io.err(`interrupted: resume with --resume ${run.name}`);
          throw new ExitStatus(130);
        }
      }).finally(() => {
        for (const s of signals) process.off(s, onSignal);
      });
    });

  program
    .command('compare')
    .description('per-language and per-style P@1 deltas between two runs, with an exact McNemar test on paired queries')
    .argument('<runA>', 'baseline run (name or id)')
    .argument('<runB>', 'candidate run (name or id)')
    .option('--db <file>', 'results database', DEFAULT_DB)
    .option(
      '--fail-on-drop <points>',
      'exit 1 when a language drops by more than this many points, significantly (p < 0.05), or when B is incomplete or lacks what A has',
      points,
    )
    .option('--force', 'compare runs over different data or options anyway')
    .option('--format <fmt>', 'table | json', 'table')
    .action(async (a: string, b: string, o: { db: string; failOnDrop?: number; force?: boolean; format: string }) => {
      if (!['table', 'json'].includes(o.format)) fail(`--format must be table or json, got "${o.format}"`);
      await withStore(o.db, { readonly: true }, (store) => {
        const ra = requireRun(store, a);
        const rb = requireRun(store, b);
        const diffs = inputDifferences(ra, rb, COMPARABLE_OPTIONS, false);
        if (diffs.length && !o.force) fail(`runs "${ra.name}" and "${rb.name}" differ in ${diffs.join('; ')} (use --force to compare anyway)`);
        for (const r of [ra, rb]) if (r.status !== 'complete') io.err(`warning: run "${r.name}" is ${r.status}`);
        const rowsA = readResults(store, ra.id);
        const rowsB = readResults(store, rb.id);
        const deltas = pairedDeltas(rowsA, rowsB);
        if (deltas.length === 0) fail(`runs "${ra.name}" and "${rb.name}" share no queries`);
        const failing = o.failOnDrop === undefined ? [] : deltas.filter((d) => d.delta_points < -o.failOnDrop! && d.p_value < 0.05);
        const gaps =
          o.failOnDrop === undefined
            ? []
            : gateGaps({ name: ra.name, rows: rowsA }, { name: rb.name, status: rb.status, stored: rowsB.length, planned: rb.planned }, deltas);
        if (o.format === 'json')
          io.out(JSON.stringify({ a: ra.name, b: rb.name, fail_on_drop: o.failOnDrop ?? null, deltas, failing, gate_gaps: gaps }, null, 2));
        else {
          io.out(`A = ${ra.name} (#${ra.id})  B = ${rb.name} (#${rb.id})`);
          io.out(compareTable(deltas, o.failOnDrop, io.tty));
          if (o.failOnDrop !== undefined) {
            if (failing.length)
              io.out(
                `FAIL: ${failing.map((d) => `${d.language}/${d.style} ${d.delta_points.toFixed(1)} pts (p=${d.p_value.toPrecision(2)})`).join(', ')} dropped more than ${o.failOnDrop} points`,
              );
            for (const g of gaps) io.out(`FAIL: ${g}; the gate cannot pass on what B did not answer`);
            if (!failing.length && !gaps.length) io.out(`ok: no language dropped more than ${o.failOnDrop} points with significance`);
          }
        }
        if (failing.length || gaps.length) throw new ExitStatus(1);
      });
    });

  program
    .command('runs')
    .description('list the runs in a results database')
    .option('--db <file>', 'results database', DEFAULT_DB)
    .option('--format <fmt>', 'table | json', 'table')
    .action(async (o: { db: string; format: string }) => {
      if (!['table', 'json'].includes(o.format)) fail(`--format must be table or json, got "${o.format}"`);
      await withStore(o.db, { readonly: true }, (store) => {
        // A `running` run whose holder is gone (killed, or gave up on a busy database) says so: --resume takes it.
        const runs = listRuns(store).map((r) => ({
          ...r,
          held_by: liveHolder(r, store.file),
          gone: r.status === 'running' && !!r.lease_pid && !liveHolder(r, store.file),
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
              r.gone ? 'running (holder gone)' : r.status,
              r.stored,
              r.planned,
              JSON.stringify(r.options.styles),
              r.started_at,
              r.label ?? '',
              r.model_path ?? '',
              r.data_path ?? '',
            ]),
            { colour: io.tty },
          ),
        );
      });
    });
}
