import { existsSync, linkSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { openRunContext, selectionOf } from '../../run/context.js';
import { queryCosts } from '../../run/costs.js';
import { assignShards, shardBalance } from '../../run/shard.js';
import { MergeInterrupted, planMerge, writeMerge, type MergeOutcome, type MergePlan } from '../../run/merge.js';
import { count, RUN_OPTIONS, type RunOptions } from '../../run/config.js';
import { storeFiles, withStore, withStoreSync } from '../../store/db.js';
import { fail } from '../../errors.js';
import { sameFile } from '../../paths.js';
import { renderTable } from '../../report/table.js';
import { declareOptions, runName, SELECTION_KEYS, type Io } from '../io.js';

export type ShardsOptions = Required<Pick<RunOptions, 'model' | 'data'>> &
  Pick<RunOptions, 'languages' | 'relations' | 'styles' | 'limit' | 'sample' | 'seed' | 'templates' | 'fallback'> & { count: number };

export function registerCluster(program: Command, io: Io): void {
  declareOptions(
    program
      .command('shards')
      .description('show how `run --shard I/N` would split the queries: estimated cost per shard and the balance')
      .requiredOption('--model <dir>', 'checkpoint directory (its tokenizer decides the costs)')
      .requiredOption('--data <dir>', 'mLAMA 1.1 directory')
      .requiredOption('--count <n>', 'number of shards', count('--count')),
    RUN_OPTIONS,
    SELECTION_KEYS,
  ).action((o: ShardsOptions) => shardsCommand(o, io));

  program
    .command('merge')
    .description('merge the shard databases of one sharded run into one run that report and compare treat like any other')
    .argument('<out>', 'results database to write (created if missing)')
    .argument('<inputs...>', 'shard databases')
    .option('--run <name>', 'the run to take from each input (default: its only run)')
    .option('--name <name>', "name of the merged run (default: the shards' run name; needed when the shards' names differ)", runName)
    .option('--label <text>', "label of the merged run (default: the shards' label; needed when their labels differ)")
    .action((out: string, inputs: string[], o: MergeOptions) => mergeCommand(out, inputs, o, io));
}

/** `mlama merge`: the shard databases of one run into one run of `out`. */
export async function mergeCommand(out: string, inputs: string[], o: MergeOptions, io: Io): Promise<void> {
  for (const f of inputs) if (sameFile(f, out)) fail(`${f}: the output database cannot also be an input`);
  // Another application's file at `out` is named first, as opening it for writing would; opened read-only here.
  if (existsSync(out) && statSync(out).size > 0) withStoreSync(out, { readonly: true }, () => undefined);
  const plan = planMerge(inputs, o);
  // A signal stops the merge between chunks and rolls it back; the default action would leave a private file behind.
  let stop: string | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    stop ??= sig;
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);
  try {
    const r = existsSync(out) ? await withStore(out, {}, (store) => writeMerge(store, plan, () => stop)) : await mergeIntoNew(out, plan, () => stop);
    io.out(
      `merged ${r.sources.length} shards (${r.sources.map((s) => `${s.index}/${s.count}: ${s.answers}`).join(', ')}) into run "${r.run.name}" of ${out}: ${r.answers} answers, ${r.run.status}`,
    );
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

export interface MergeOptions {
  run?: string;
  name?: string;
  label?: string;
}

/**
 * A merge into a database that does not exist yet is written to a private file beside it, which becomes `out` by
 * a hard link that never replaces a file: a refused or interrupted merge removes only its own private file, never
 * one another process may have opened. When another merge created `out` meanwhile, this one goes into it.
 */
async function mergeIntoNew(out: string, plan: MergePlan, stopped: () => string | undefined): Promise<MergeOutcome> {
  const own = join(dirname(out), `.${basename(out)}.${process.pid}.merging`);
  try {
    const r = await withStore(own, {}, (store) => writeMerge(store, plan, stopped, out));
    const sig = stopped();
    if (sig) throw new MergeInterrupted(`merge interrupted by ${sig}: nothing was written to ${out}`, 130);
    try {
      linkSync(own, out);
      return r;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // EEXIST: another merge created `out` first. Elsewhere (a file system without hard links) write in place.
      if (!['EEXIST', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(code ?? '')) throw e;
    }
    return await withStore(out, {}, (store) => writeMerge(store, plan, stopped));
  } finally {
    for (const f of storeFiles(own)) rmSync(f, { force: true });
  }
}

/** `mlama shards`: how `run --shard I/N` would split the selected queries, by estimated cost. */
export function shardsCommand(o: ShardsOptions, io: Io): void {
  const ctx = openRunContext({ ...o, selection: selectionOf(o), hold: true });
  const items = queryCosts(ctx.ds, ctx.languages, ctx.ck, ctx.labels, ctx.styles, ctx.selection);
  const b = shardBalance(items, assignShards(items, o.count), o.count);
  const total = b.costs.reduce((a, c) => a + c, 0);
  io.out(
    renderTable(
      ['shard', 'queries', 'estimated cost (tokens)', 'share %'],
      b.costs.map((c, i) => [`${i}/${o.count}`, b.queries[i], c, ((100 * c) / total).toFixed(2)]),
      { colour: io.tty },
    ),
  );
  const byCount = items.length / o.count;
  const countMax = Math.max(...b.queries) / byCount;
  io.out(
    `${items.length} queries over ${ctx.languages.length} languages, ${o.count} shards: balance (max/mean estimated cost) ${b.maxOverMean.toFixed(3)}; queries per shard vary ${(Math.min(...b.queries) / byCount).toFixed(2)}-${countMax.toFixed(2)}x the mean`,
  );
}
