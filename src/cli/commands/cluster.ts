import { existsSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import { openRunContext, selectionOf } from '../../run/context.js';
import { queryCosts } from '../../run/costs.js';
import { assignShards, shardBalance } from '../../run/shard.js';
import { mergeShards } from '../../run/merge.js';
import { count, RUN_OPTIONS, type RunOptions } from '../../run/config.js';
import { listRuns, storeFiles, withStore, withStoreSync } from '../../store/db.js';
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
    .option('--name <name>', "name of the merged run (default: the shards' run name)", runName)
    .action((out: string, inputs: string[], o: { run?: string; name?: string }) => mergeCommand(out, inputs, o, io));
}

/** `mlama merge`: the shard databases of one run into one run of `out`. */
export async function mergeCommand(out: string, inputs: string[], o: { run?: string; name?: string }, io: Io): Promise<void> {
  for (const f of inputs) if (sameFile(f, out)) fail(`${f}: the output database cannot also be an input`);
  // A merge that is refused writes nothing: not even the empty database opening `out` created.
  const created = !existsSync(out);
  try {
    await withStore(out, {}, (store) => {
      const r = mergeShards(store, inputs, o);
      io.out(
        `merged ${r.sources.length} shards (${r.sources.map((s) => `${s.index}/${s.count}: ${s.answers}`).join(', ')}) into run "${r.run.name}" of ${out}: ${r.answers} answers, ${r.run.status}`,
      );
    });
  } catch (e) {
    if (created && holdsNoRun(out)) for (const f of storeFiles(out)) rmSync(f, { force: true });
    throw e;
  }
}

/** Only an empty database is removed: another merge may have created the same file and committed into it. */
function holdsNoRun(file: string): boolean {
  try {
    return withStoreSync(file, { readonly: true }, (s) => listRuns(s).length === 0);
  } catch {
    return false;
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
      b.costs.map((c, i) => [`${i}/${o.count}`, b.queries[i], c, Number(((100 * c) / total).toFixed(2))]),
      { colour: io.tty },
    ),
  );
  const byCount = items.length / o.count;
  const countMax = Math.max(...b.queries) / byCount;
  io.out(
    `${items.length} queries over ${ctx.languages.length} languages, ${o.count} shards: balance (max/mean estimated cost) ${b.maxOverMean.toFixed(3)}; queries per shard vary ${(Math.min(...b.queries) / byCount).toFixed(2)}-${countMax.toFixed(2)}x the mean`,
  );
}
