import { fail, HarnessError } from '../errors.js';
import { runDifferences } from './config.js';
import { parseShardName, type ShardSpec } from './shard.js';
import {
  createRun,
  findRun,
  iterateResults,
  listRuns,
  openStore,
  resultKey,
  resultWriter,
  setStatus,
  storedCount,
  withStoreSync,
  type ResultRow,
  type RunRecord,
  type Store,
} from '../store/db.js';

export interface MergeSource {
  file: string;
  run: RunRecord;
  index: number;
  count: number;
  answers: number;
}

/** The checked shards of one run, in shard order, and the name and label of the run they merge into. */
export interface MergePlan {
  sources: MergeSource[];
  name: string;
  label: string | null;
}

export interface MergeOutcome {
  run: RunRecord;
  sources: MergeSource[];
  answers: number;
}

/** A merge stopped by a signal; what it wrote was rolled back. */
export class MergeInterrupted extends HarnessError {}

/** Answers copied between two looks at the stop flag: a signal is answered within one such chunk. */
const CHUNK = 2000;

function shardOf(file: string, run: RunRecord): ShardSpec {
  const spec = parseShardName(String(run.options.shard ?? ''));
  if (!spec) fail(`${file}: run "${run.name}" is not a shard (it was not run with --shard)`);
  return spec;
}

function pickRun(store: Store, ref: string | undefined): RunRecord {
  if (ref) {
    const run = findRun(store, ref);
    if (!run) fail(`${store.file}: no run "${ref}"`);
    return run;
  }
  const runs = listRuns(store);
  if (runs.length !== 1) fail(`${store.file}: holds ${runs.length} runs (${runs.map((r) => r.name).join(', ') || 'none'}); name the one to merge with --run`);
  return runs[0];
}

/**
 * Reads the shard runs (read-only) and checks that they share checkpoint, dataset and options, that shards
 * 0..N-1 are each present once and complete, and that their names and labels agree unless the merged run's are
 * given: nothing is opened for writing before this passes.
 */
export function planMerge(inputs: string[], o: { run?: string; name?: string; label?: string }): MergePlan {
  if (inputs.length === 0) fail('merge: name at least one shard database');
  const listed: MergeSource[] = inputs.map((file) =>
    withStoreSync(file, { readonly: true }, (store) => {
      const run = pickRun(store, o.run);
      return { file, run, ...shardOf(file, run), answers: storedCount(store, run.id) };
    }),
  );
  const first = listed[0];
  for (const s of listed.slice(1)) {
    const diffs = [
      ...(s.count !== first.count ? [`shard count: ${first.count} vs ${s.count}`] : []),
      // Another release may build the same queries otherwise: shards of one run come from one harness.
      ...(s.run.harness_version !== first.run.harness_version ? [`mlama-harness ${first.run.harness_version} vs ${s.run.harness_version}`] : []),
      ...runDifferences('merge', first.run, s.run),
    ];
    if (diffs.length) fail(`${s.file}: shard ${s.index}/${s.count} does not match ${first.file} (${diffs.join('; ')})`);
  }
  const byIndex = new Map<number, MergeSource[]>();
  for (const s of listed) byIndex.set(s.index, [...(byIndex.get(s.index) ?? []), s]);
  const doubled = [...byIndex.entries()].filter(([, list]) => list.length > 1);
  if (doubled.length)
    fail(`merge: ${doubled.map(([i, list]) => `shard ${i}/${first.count} appears ${list.length} times (${list.map((s) => s.file).join(', ')})`).join('; ')}`);
  const missing = Array.from({ length: first.count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length)
    fail(
      `merge: missing shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${first.count}`).join(', ')} (have ${[...byIndex.keys()]
        .sort((a, b) => a - b)
        .map((i) => `${i}/${first.count}`)
        .join(', ')})`,
    );
  for (const s of listed) {
    if (s.run.status !== 'complete' || s.answers !== s.run.planned)
      fail(
        `${s.file}: shard ${s.index}/${s.count} (run "${s.run.name}") is ${s.run.status} with ${s.answers}/${s.run.planned} answers; finish it with mlama run --resume ${s.run.name}`,
      );
  }
  // Shard order, not the order listed: the merged run is the same whichever order the shell globbed.
  const sources = [...listed].sort((a, b) => a.index - b.index);
  return {
    sources,
    name: o.name ?? agreed(sources, 'name', (r) => r.name, '--name'),
    label: o.label ?? agreed(sources, 'label', (r) => r.label ?? null, '--label'),
  };
}

/** The one value every shard run has for `what`; shards that disagree are refused until the merged run's is given. */
function agreed<T>(sources: MergeSource[], what: string, get: (r: RunRecord) => T, flag: string): T {
  const values = new Map<string, string[]>();
  for (const s of sources) values.set(JSON.stringify(get(s.run)), [...(values.get(JSON.stringify(get(s.run))) ?? []), `${s.index}/${s.count}`]);
  if (values.size > 1)
    fail(
      `merge: the shard runs have different ${what}s (${[...values].map(([v, shards]) => `${v} in ${shards.join(', ')}`).join('; ')}); give the merged run's ${flag}`,
    );
  return get(sources[0].run);
}

/**
 * Writes the planned shards into `out` as one complete run, in a single transaction, so a failed or interrupted
 * merge leaves `out` as it was. Answers are copied in chunks; between chunks a signal is noticed (`stopped`
 * returns its name) and the transaction rolled back. `shown` is the file the user named, where `out` is a
 * private file that becomes it.
 */
export async function writeMerge(out: Store, plan: MergePlan, stopped: () => string | undefined, shown = out.file): Promise<MergeOutcome> {
  const { sources, name } = plan;
  if (findRun(out, name)) fail(`${out.file}: a run named "${name}" exists; results are never overwritten (use --name)`);
  const first = sources[0];
  out.db.exec('BEGIN IMMEDIATE');
  try {
    const run = createRun(out, {
      name,
      started_at: sources.map((s) => s.run.started_at).sort()[0],
      options: {
        ...first.run.options,
        shard: null,
        merged_from: sources.map((s) => `${s.index}/${s.count}`),
        planned_languages: plannedLanguages(sources.map((s) => s.run)),
      },
      harness_version: first.run.harness_version,
      checkpoint: first.run.checkpoint,
      dataset: first.run.dataset,
      random_weights: first.run.random_weights,
      model_path: first.run.model_path,
      data_path: first.run.data_path,
      label: plan.label,
      planned: sources.reduce((a, s) => a + s.run.planned, 0),
    });
    const write = resultWriter(out, run.id);
    const seen = new Map<string, string>();
    let answers = 0;
    const flush = async (rows: ResultRow[]) => {
      write(rows);
      answers += rows.length;
      await new Promise((r) => setImmediate(r));
      const sig = stopped();
      if (sig) throw new MergeInterrupted(`merge interrupted by ${sig}: nothing was written to ${shown}`, 130);
    };
    for (const s of sources) {
      const input = openStore(s.file, { readonly: true });
      try {
        let rows: ResultRow[] = [];
        for (const r of iterateResults(input, s.run.id)) {
          const key = resultKey(r.style, r.language, r.relation, r.template, r.subject);
          const other = seen.get(key);
          if (other) fail(`merge: the answer ${key} is in both ${other} and ${s.file}`);
          seen.set(key, s.file);
          rows.push(r);
          if (rows.length === CHUNK) {
            await flush(rows);
            rows = [];
          }
        }
        await flush(rows);
      } finally {
        input.db.close();
      }
    }
    setStatus(out, run.id, 'complete');
    out.db.exec('COMMIT');
    return { run: findRun(out, name)!, sources, answers };
  } catch (e) {
    if (out.db.inTransaction) out.db.exec('ROLLBACK');
    throw e;
  }
}

/** The shards' per-language plans added up (each shard planned only the answers it owns). */
function plannedLanguages(runs: RunRecord[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const r of runs) for (const [l, n] of Object.entries((r.options.planned_languages ?? {}) as Record<string, number>)) sum[l] = (sum[l] ?? 0) + n;
  return sum;
}
