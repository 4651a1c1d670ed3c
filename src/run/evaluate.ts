import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fail } from '../errors.js';
import { distinct, holding, openDataset, readLanguage, resolveLanguages, resolveRelations } from '../data/mlama.js';
import { readLabelIndex } from '../data/labels.js';
import { keysForLabels, linkCounts, type LinkCounts } from '../tokenize/entityLinker.js';
import { loadStyle, PROMPTS_DIR, type PromptStyle } from '../prompts/styles.js';
import { languageQueries } from '../prompts/source.js';
import type { BuiltQuery } from '../prompts/build.js';
import {
  atPrecision,
  checkpointFingerprint,
  clearHashCache,
  headWidths,
  loadCheckpoint,
  maxSequenceLength,
  refuseUnservedStyles,
  type Checkpoint,
} from '../model/checkpoint.js';
import { openScoringSessions } from '../model/session.js';
import { scoreQueries, type ScoredQuery } from '../model/scorer.js';
import {
  acquireRun,
  checkStoreFile,
  createRun,
  findRun,
  heartbeat,
  resultKey,
  resultWriter,
  setPlanned,
  setPlannedLanguages,
  setStatus,
  storedKeys,
  type ResultRow,
  type RunRecord,
  type Store,
} from '../store/db.js';
import { inputDifferences, runDifferences, storedOptions, withStoredOptions, type RunOptions } from './config.js';
import { datasetFingerprint } from './fingerprint.js';
import { planShard, queryCosts, type ShardPlan } from './costs.js';
import { shardName } from './shard.js';
import { HEARTBEAT_MS, hold, liveHolder, ownLease } from './lease.js';
import type { Dataset } from '../data/mlama.js';

export type { RunOptions } from './config.js';

export interface Progress {
  start(language: string, total: number, done: number): void;
  advance(language: string, n: number): void;
  stop(): void;
}

export interface RunOutcome {
  run: RunRecord;
  stored: number;
  skipped: number;
  interrupted: boolean;
  warnings: string[];
  shard?: ShardPlan;
  /** How the candidate labels of the entity styles' sets scored in this session were linked to entities. */
  links?: LinkCounts;
}

export const HARNESS_VERSION = (JSON.parse(readFileSync(join(PROMPTS_DIR, '..', 'package.json'), 'utf8')) as { version: string }).version;

/** The options a resume did not restate, taken from the stored run, so `--resume NAME` alone continues it. */
export function withStoredRun(prev: RunRecord, o: RunOptions): RunOptions {
  const out = withStoredOptions(prev.name, prev.options, o);
  out.model ??= prev.model_path ?? undefined;
  out.data ??= prev.data_path ?? undefined;
  for (const k of ['model', 'data'] as const)
    if (!out[k]) fail(`cannot resume "${prev.name}": it was stored without its --${k} path (an older harness); give --${k}`);
  return out;
}

/** Every input a run reads, fingerprinted: checkpoint files and every data folder (see datasetFingerprint). */
function inputsOf(ck: Checkpoint, ds: Dataset, read: string[]): { checkpoint: Record<string, string>; dataset: Record<string, string> } {
  return { checkpoint: checkpointFingerprint(ck), dataset: datasetFingerprint(ds, read) };
}

/**
 * An evaluation run: builds every query, scores it and stores each batch in one transaction. Stops cleanly on
 * `shouldStop()` (Ctrl-C) with what is done kept and the run marked interrupted. The run is stored only once its
 * queries are planned and its graph loads, and held by a lease while it runs; at the end its inputs and its
 * results file are checked again, and a run whose inputs changed meanwhile fails naming them.
 */
export async function evaluate(store: Store, o: RunOptions, progress: Progress, shouldStop: () => boolean): Promise<RunOutcome> {
  let prev: RunRecord | undefined;
  if (o.resume) {
    prev = findRun(store, o.resume);
    if (!prev) fail(`${store.file}: no run "${o.resume}" to resume`);
    o = withStoredRun(prev, o);
    const holder = liveHolder(prev, store.file);
    if (holder) fail(`cannot resume "${prev.name}": it is still running (${holder}); wait for it or stop it first`);
  } else {
    if (!o.model || !o.data) fail(`run: --model and --data are required (or --resume NAME)`);
    if (o.name !== undefined) refuseExisting(store, o.name);
  }
  const opened = openDataset(o.data!);
  const languages = resolveLanguages(opened, o.languages);
  // Read once: the label index, the plan, the shard's costs and the scoring all take the run's files from memory.
  const ds = holding(opened, languages);
  // The label index behind the entity fallback reads every language folder, not only the run's. Fingerprinted
  // before the first parse: the files held are those fingerprinted, and a rewrite after it is seen at the end.
  const read = [...languages, ...ds.languages];
  const dataset = datasetFingerprint(ds, read);
  resolveRelations(ds, languages, o.relations);
  const styles: PromptStyle[] = distinct('--styles', o.styles).map(loadStyle);
  const labels = readLabelIndex(ds);
  const precision = o.precision ?? 'float32';
  const ck = atPrecision(loadCheckpoint(o.model!, { entityKeys: keysForLabels(labels.labels) }), precision);
  refuseUnservedStyles(ck, styles);
  const options = storedOptions({ ...o, languages, precision });
  const fingerprint = { checkpoint: checkpointFingerprint(ck), dataset };
  if (prev) {
    const diffs = runDifferences('resume', prev, { options, ...fingerprint });
    if (diffs.length) fail(`cannot resume "${prev.name}": it was run with different inputs (${diffs.join('; ')})`);
    if (prev.status === 'complete') return { run: prev, stored: 0, skipped: 0, interrupted: false, warnings: [] };
  }

  const done = prev ? storedKeys(store, prev.id) : new Set<string>();
  const warnings: string[] = [];
  const sel = { relations: o.relations, limit: o.limit, templates: o.templates, fallback: o.fallback };
  // A shard is decided from the cost of every query, so each process of a job array derives the same split.
  const shard = o.shard ? planShard(queryCosts(ds, languages, ck, labels, styles, sel), o.shard) : undefined;
  const select = shard ? (b: BuiltQuery) => shard.owned.has(b.query.key) : () => true;
  const keyOf = (b: BuiltQuery) => resultKey(b.style.name, b.query.language, b.query.relation, b.query.template, b.query.subject);
  // Plan: how many answers each language owes, so progress shows done/total and an ETA.
  const totals = new Map<string, { total: number; done: number }>();
  for (const lang of languages) {
    let total = 0;
    let already = 0;
    for (const set of readLanguage(ds, lang, sel)) {
      const qs = o.limit !== undefined ? set.queries.slice(0, o.limit) : set.queries;
      for (const q of qs) {
        for (const s of styles) {
          const probe = { style: s, query: q } as BuiltQuery;
          if (!select(probe)) continue;
          total++;
          if (done.has(keyOf(probe))) already++;
        }
      }
    }
    totals.set(lang, { total, done: already });
  }
  const planned = [...totals.values()].reduce((a, t) => a + t.total, 0);
  if (planned === 0 && !o.shard) {
    fail(
      `the selection (languages ${languages.join(', ')}${o.relations ? `; relations ${o.relations.join(', ')}` : ''}) has no query to ask: every selected relation lacks a template`,
    );
  }

  const { gathered: session, words, release } = await openScoringSessions(ck, styles, { threads: o.threads, device: o.device });
  // Only now is the run stored or taken over: a failure above leaves no `running` run behind.
  const lease = ownLease();
  let run: RunRecord;
  try {
    if (prev) {
      run = acquireRun(
        store,
        prev.id,
        lease,
        (now) => {
          const holder = liveHolder(now, store.file);
          if (holder) fail(`cannot resume "${now.name}": it is still running (${holder}); wait for it or stop it first`);
        },
        o.label,
      );
      setPlanned(store, run.id, planned);
    } else {
      const name = o.name ?? `run-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      refuseExisting(store, name);
      run = createRun(store, {
        name,
        started_at: new Date().toISOString(),
        options,
        harness_version: HARNESS_VERSION,
        checkpoint: fingerprint.checkpoint,
        dataset: fingerprint.dataset,
        random_weights: ck.manifest.random_weights,
        planned,
        model_path: resolve(o.model!),
        data_path: resolve(o.data!),
        label: o.label ?? null,
        lease,
      });
    }
  } catch (e) {
    await release();
    throw e;
  }
  setPlannedLanguages(store, run.id, Object.fromEntries([...totals].map(([l, t]) => [l, t.total])));
  hold(store.file, run.id, true);
  const beat = setInterval(() => {
    try {
      heartbeat(store, run.id, lease.pid);
    } catch {
      // A busy database delays one heartbeat; the next one comes in HEARTBEAT_MS.
    }
  }, HEARTBEAT_MS);
  beat.unref();

  const write = resultWriter(store, run.id);
  const shardTag = o.shard ? shardName(o.shard) : null;
  let stored = 0;
  let interrupted = false;
  const linked = new Set<BuiltQuery['relation']>();
  const links: LinkCounts = { direct: 0, fallback: 0, refused: 0, none: 0 };
  try {
    for (const lang of languages) {
      const t = totals.get(lang)!;
      if (t.total === t.done) continue;
      progress.start(lang, t.total, t.done);
      function* pending(): Generator<BuiltQuery> {
        for (const b of languageQueries(ds, lang, ck.tokenizer, ck.entityVocab, labels, styles, sel, (w) => warnings.push(w))) {
          if (!select(b) || done.has(keyOf(b))) continue;
          if (b.style.head === 'entity' && !linked.has(b.relation)) {
            linked.add(b.relation);
            const c = linkCounts(b.relation.candidates.entities);
            for (const k of Object.keys(links) as (keyof LinkCounts)[]) links[k] += c[k];
          }
          yield b;
        }
      }
      for await (const batch of scoreQueries(session, pending(), {
        batchSize: o.batchSize,
        tokenBudget: o.tokenBudget,
        headWidths: headWidths(ck),
        padEntityId: ck.entityVocab?.special.pad ?? 0,
        maxLength: maxSequenceLength(ck.config, ck.family),
        words,
      })) {
        write(batch.map((s) => toRow(s, shardTag)));
        stored += batch.length;
        progress.advance(lang, batch.length);
        if (shouldStop()) {
          interrupted = true;
          break;
        }
      }
      if (interrupted) break;
    }
    checkStoreFile(store);
    // What was read at the start must still be what is there: answers scored under other weights or data
    // cannot be counted as this run's.
    clearHashCache();
    const changed = inputDifferences({ options, ...fingerprint }, { options, ...inputsOf(ck, ds, read) }, []);
    if (changed.length)
      fail(
        `run "${run.name}" failed: its inputs changed while it ran (${changed.join('; ')}); the stored answers may mix old and new inputs, so start a new run`,
      );
  } catch (e) {
    // The original error is what the user needs; a status write can itself fail (a busy or vanished database).
    // Then the run stays `running` with this process's lease, which is stale once it exits: --resume takes it.
    try {
      setStatus(store, run.id, 'failed');
    } catch {}
    throw e;
  } finally {
    clearInterval(beat);
    hold(store.file, run.id, false);
    progress.stop();
    await release();
  }
  const total = (store.db.prepare('SELECT COUNT(*) AS n FROM results WHERE run_id = ?').get(run.id) as { n: number }).n;
  setStatus(store, run.id, interrupted ? 'interrupted' : total === planned ? 'complete' : 'failed');
  return { run: findRun(store, String(run.id))!, stored, skipped: done.size, interrupted, warnings, shard, links: linked.size ? links : undefined };
}

function refuseExisting(store: Store, name: string): void {
  const existing = findRun(store, name);
  if (!existing) return;
  const holder = liveHolder(existing, store.file);
  const how =
    existing.status !== 'running'
      ? `use --resume ${name} or another --name`
      : holder
        ? `it is still running: ${holder}; use another --name`
        : `it was left running by a process that is gone: continue it with --resume ${name}`;
  fail(`${store.file}: a run named "${name}" exists; results are never overwritten (${how})`);
}

export function toRow(s: ScoredQuery, shard: string | null): ResultRow {
  const q = s.built.query;
  const candidates = s.built.relation.set.candidates;
  return {
    language: q.language,
    relation: q.relation,
    template: q.template,
    subject: q.subject,
    style: s.built.style.name,
    golds: q.golds.map((g) => g.label),
    lineids: q.lineids,
    top: s.top.map((t) => ({ label: t.label, score: Number.isFinite(t.score) ? t.score : -1e30, uri: candidates[t.index]?.uri ?? null })),
    gold_rank: s.goldRank,
    gold_score: Number.isFinite(s.goldScore) ? s.goldScore : -1e30,
    candidates: s.candidates,
    covered: s.built.covered,
    shard,
    sub_uri: q.subjectUri ?? null,
    gold_uris: q.golds.map((g) => g.uri ?? null),
    tie: s.goldTie,
    // Paraphrases are read from <lang>/paraphrases/; the main template from templates.jsonl.
    template_main: !/[\\/]paraphrases[\\/]/.test(s.built.relation.set.template.source),
  };
}
