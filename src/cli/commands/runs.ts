import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fail } from '../../errors.js';
import { evaluate, type RunOptions } from '../../run/evaluate.js';
import { listRuns, readResults, requireRun, withStore } from '../../store/db.js';
import { averageOverLanguages, languageMetrics, relationMetrics, tieWarnings } from '../../report/metrics.js';
import { compareTable, relationTable, renderReportTable, reportCsv, reportOf } from '../../report/render.js';
import { reportHtml } from '../../report/html.js';
import { COMPARABLE_OPTIONS, gateGaps, inputDifferences, pairedDeltas } from '../../report/compare.js';
import { progressBars } from '../../report/progress.js';
import { renderTable } from '../../report/table.js';
import { points, positiveInt, querySelectionOptions, runName, threadCount, type Io } from '../io.js';
import { parseShard } from './shard.js';
import { lookupLine, shardLine } from '../../report/render.js';

const DEFAULT_DB = 'results/mlama.sqlite';

export function registerRuns(program: Command, io: Io): void {
  querySelectionOptions(
    program
      .command('run')
      .description('evaluate a checkpoint on mLAMA and store every answer')
      .requiredOption('--model <dir>', 'checkpoint directory')
      .requiredOption('--data <dir>', 'mLAMA 1.1 directory'),
  )
    .option('--name <name>', 'run name (default: run-<timestamp>)', runName)
    .option('--resume <name>', 'continue an interrupted run; refused if inputs changed')
    .option('--db <file>', 'results database', DEFAULT_DB)
    .option('--batch-size <n>', 'rows per batch at most', positiveInt, 64)
    .option('--token-budget <n>', 'padded tokens per batch at most', positiveInt, 4096)
    .option('--threads <n>', 'onnxruntime intra-op threads (default: all cores; at most 4x the cores)', threadCount)
    .option('--device <d>', 'cpu | cuda', 'cpu')
    .option('--shard <i/n>', 'run shard i of n (default from SLURM_ARRAY_TASK_ID/COUNT)')
    .option('--busy-timeout <ms>', 'wait this long for another writer of the database before giving up', positiveInt, 10000)
    .action(async (o: RunOptions & { db: string; shard?: string; device: string; busyTimeout: number }) => {
      if (o.device !== 'cpu' && o.device !== 'cuda') fail(`--device must be cpu or cuda, got "${o.device}"`);
      const shard = parseShard(o.shard as string | undefined, process.env);
      let stop = false;
      const onSigint = () => {
        if (stop) process.exit(130);
        stop = true;
        io.err('\nstopping after the current batch (Ctrl-C again to abort)...');
      };
      process.on('SIGINT', onSigint);
      await withStore(o.db, { busyTimeoutMs: o.busyTimeout }, async (store) => {
        const outcome = await evaluate(store, { ...o, shard, device: o.device as 'cpu' | 'cuda' }, progressBars(io.tty, (s) => io.err(s)), () => stop);
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
          process.exitCode = 130;
        }
      }).finally(() => process.off('SIGINT', onSigint));
    });

  program
    .command('report')
    .description('per-language accuracy report comparing the prompt styles')
    .option('--run <ref>', 'run name, id or "latest"', 'latest')
    .option('--db <file>', 'results database', DEFAULT_DB)
    .option('--format <fmt>', 'table | json | csv | html', 'table')
    .option('--relations', 'also print the per-relation breakdown (table format)')
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (o: { run: string; db: string; format: string; out?: string; relations?: boolean }) => {
      if (!['table', 'json', 'csv', 'html'].includes(o.format)) fail(`--format must be table, json, csv or html, got "${o.format}"`);
      await withStore(o.db, { readonly: true }, async (store) => {
        const run = requireRun(store, o.run);
        const rows = readResults(store, run.id);
        if (rows.length === 0) fail(`run "${run.name}" has no stored answers`);
        const langs = languageMetrics(rows);
        const report = reportOf(run, langs, averageOverLanguages(langs), relationMetrics(rows));
        let text: string;
        if (o.format === 'json') text = JSON.stringify(report, null, 2);
        else if (o.format === 'csv') text = reportCsv(report);
        else if (o.format === 'html') text = await reportHtml(report);
        else text = renderReportTable(report, io.tty && !o.out) + (o.relations ? '\n' + relationTable(report, io.tty && !o.out) : '');
        for (const w of tieWarnings(langs)) io.err(`warning: ${w}`);
        if (run.status !== 'complete') io.err(`warning: run "${run.name}" is ${run.status}: ${rows.length}/${run.planned} answers; the numbers cover only what is stored`);
        if (o.out) {
          try {
            writeFileSync(o.out, text.endsWith('\n') ? text : text + '\n');
          } catch (e) {
            fail(`${o.out}: cannot write the report (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
          }
          io.out(`wrote ${o.out}`);
        } else io.out(text);
      });
    });

  program
    .command('compare')
    .description('per-language and per-style P@1 deltas between two runs, with an exact McNemar test on paired queries')
    .argument('<runA>', 'baseline run (name or id)')
    .argument('<runB>', 'candidate run (name or id)')
    .option('--db <file>', 'results database', DEFAULT_DB)
    .option('--fail-on-drop <points>', 'exit 1 when a language drops by more than this many points, significantly (p < 0.05), or when B is incomplete or lacks what A has', points)
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
        const gaps = o.failOnDrop === undefined ? [] : gateGaps({ name: ra.name, rows: rowsA }, { name: rb.name, status: rb.status, stored: rowsB.length, planned: rb.planned }, deltas);
        if (o.format === 'json') io.out(JSON.stringify({ a: ra.name, b: rb.name, fail_on_drop: o.failOnDrop ?? null, deltas, failing, gate_gaps: gaps }, null, 2));
        else {
          io.out(`A = ${ra.name} (#${ra.id})  B = ${rb.name} (#${rb.id})`);
          io.out(compareTable(deltas, o.failOnDrop, io.tty));
          if (o.failOnDrop !== undefined) {
            if (failing.length) io.out(`FAIL: ${failing.map((d) => `${d.language}/${d.style} ${d.delta_points.toFixed(1)} pts (p=${d.p_value.toPrecision(2)})`).join(', ')} dropped more than ${o.failOnDrop} points`);
            for (const g of gaps) io.out(`FAIL: ${g}; the gate cannot pass on what B did not answer`);
            if (!failing.length && !gaps.length) io.out(`ok: no language dropped more than ${o.failOnDrop} points with significance`);
          }
        }
        if (failing.length || gaps.length) process.exitCode = 1;
      });
    });

  program
    .command('runs')
    .description('list the runs in a results database')
    .option('--db <file>', 'results database', DEFAULT_DB)
    .action(async (o: { db: string }) => {
      await withStore(o.db, { readonly: true }, (store) => {
        io.out(renderTable(['id', 'name', 'status', 'answers', 'planned', 'styles', 'started'], listRuns(store).map((r) => [r.id, r.name, r.status, r.stored, r.planned, JSON.stringify(r.options.styles), r.started_at]), { colour: io.tty }));
      });
    });
}
