import { fail } from '../errors.js';
import { runDifferences } from './config.js';
import { parseShardName, type ShardSpec } from './shard.js';
import { createRun, findRun, listRuns, readResults, resultKey, resultWriter, setStatus, withStoreSync, type RunRecord, type Store } from '../store/db.js';

export interface MergeSource {
  file: string;
  run: RunRecord;
  index: number;
  count: number;
  answers: number;
}

export interface MergeOutcome {
  run: RunRecord;
  sources: MergeSource[];
  answers: number;
}

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
 * Checks that the shard runs share checkpoint, dataset and options, that shards 0..N-1 are each present once and
 * complete, and that no answer appears twice; then writes one complete run into `out` in a single transaction,
 * so a failed merge leaves nothing behind. The caller refuses an input that is `out` before opening it (mlama
 * merge), since opening it for writing would already touch the input.
 */
export function mergeShards(out: Store, inputs: string[], o: { run?: string; name?: string }): MergeOutcome {
  if (inputs.length === 0) fail('merge: name at least one shard database');
  const sources: MergeSource[] = [];
  for (const file of inputs) {
    withStoreSync(file, { readonly: true }, (store) => {
      const run = pickRun(store, o.run);
      const answers = (store.db.prepare('SELECT COUNT(*) AS n FROM results WHERE run_id = ?').get(run.id) as { n: number }).n;
      sources.push({ file, run, ...shardOf(file, run), answers });
    });
  }
  const first = sources[0];
  for (const s of sources.slice(1)) {
    const diffs = [...(s.count !== first.count ? [`shard count: ${first.count} vs ${s.count}`] : []), ...runDifferences('merge', first.run, s.run)];
    if (diffs.length) fail(`${s.file}: shard ${s.index}/${s.count} does not match ${first.file} (${diffs.join('; ')})`);
  }
  const byIndex = new Map<number, MergeSource[]>();
  for (const s of sources) byIndex.set(s.index, [...(byIndex.get(s.index) ?? []), s]);
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
  for (const s of sources) {
    if (s.run.status !== 'complete' || s.answers !== s.run.planned)
      fail(
        `${s.file}: shard ${s.index}/${s.count} (run "${s.run.name}") is ${s.run.status} with ${s.answers}/${s.run.planned} answers; finish it with mlama run --resume ${s.run.name}`,
      );
  }

  const name = o.name ?? first.run.name;
  if (findRun(out, name)) fail(`${out.file}: a run named "${name}" exists; results are never overwritten (use --name)`);
  const seen = new Map<string, string>();
  let answers = 0;
  let run!: RunRecord;
  out.db
    .transaction(() => {
      run = createRun(out, {
        name,
        started_at: sources.map((s) => s.run.started_at).sort()[0],
        options: {
          ...first.run.options,
          shard: null,
          merged_from: sources.map((s) => `${s.index}/${s.count}`).sort(),
          planned_languages: plannedLanguages(sources.map((s) => s.run)),
        },
        harness_version: first.run.harness_version,
        checkpoint: first.run.checkpoint,
        dataset: first.run.dataset,
        random_weights: first.run.random_weights,
        model_path: first.run.model_path,
        data_path: first.run.data_path,
        label: first.run.label,
        planned: sources.reduce((a, s) => a + s.run.planned, 0),
      });
      const write = resultWriter(out, run.id);
      for (const s of [...sources].sort((a, b) => a.index - b.index)) {
        const rows = withStoreSync(s.file, { readonly: true }, (store) => readResults(store, s.run.id));
        for (const r of rows) {
          const key = resultKey(r.style, r.language, r.relation, r.template, r.subject);
          const other = seen.get(key);
          if (other) fail(`merge: the answer ${key} is in both ${other} and ${s.file}`);
          seen.set(key, s.file);
        }
        write(rows);
        answers += rows.length;
      }
      setStatus(out, run.id, 'complete');
    })
    .immediate();
  return { run: findRun(out, name)!, sources, answers };
}

/** The shards' per-language plans added up (each shard planned only the answers it owns). */
function plannedLanguages(runs: RunRecord[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const r of runs) for (const [l, n] of Object.entries((r.options.planned_languages ?? {}) as Record<string, number>)) sum[l] = (sum[l] ?? 0) + n;
  return sum;
}
