import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../errors.js';
import { distinct, openDataset, readLanguage, resolveLanguages, resolveRelations } from '../data/mlama.js';
import { readLabelIndex } from '../data/labels.js';
import { keysForLabels, linkCounts, type LinkCounts } from '../tokenize/entityLinker.js';
import { loadStyle, PROMPTS_DIR, type PromptStyle } from '../prompts/styles.js';
import { languageQueries } from '../prompts/source.js';
import type { BuiltQuery } from '../prompts/build.js';
import { checkpointFingerprint, entityStyleUsable, headWidths, loadCheckpoint, maxSequenceLength } from '../model/checkpoint.js';
import { openSession } from '../model/session.js';
import { scoreQueries, type ScoredQuery } from '../model/scorer.js';
import { createRun, findRun, resultKey, resultWriter, setPlanned, setPlannedLanguages, setStatus, storedKeys, type ResultRow, type RunRecord, type Store } from '../store/db.js';
import { COMPARABLE_OPTIONS, inputDifferences } from '../report/compare.js';
import { datasetFingerprint } from './fingerprint.js';
import { planShard, queryCosts, type ShardPlan } from './costs.js';
import { shardName, type ShardSpec } from './shard.js';

export interface RunOptions {
  model: string;
  data: string;
  languages?: string[];
  relations?: string[];
  styles: string[];
  limit?: number;
  templates: 'main' | 'all';
  fallback: boolean;
  name?: string;
  resume?: string;
  batchSize?: number;
  tokenBudget?: number;
  threads?: number;
  device?: 'cpu' | 'cuda';
  shard?: ShardSpec;
}

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

/** The options that decide results; what is stored with the run and checked on resume, compare and merge. */
export function resultOptions(o: RunOptions, languages: string[]): Record<string, unknown> {
  return { languages, relations: o.relations ?? null, styles: o.styles, limit: o.limit ?? null, templates: o.templates, fallback: o.fallback, shard: o.shard ? shardName(o.shard) : null };
}

/**
 * An evaluation run: builds every query, scores it and stores each batch in one transaction. Stops cleanly on
 * `shouldStop()` (Ctrl-C) with what is done kept and the run marked interrupted.
 */
export async function evaluate(store: Store, o: RunOptions, progress: Progress, shouldStop: () => boolean): Promise<RunOutcome> {
  const ds = openDataset(o.data);
  const languages = resolveLanguages(ds, o.languages);
  resolveRelations(ds, languages, o.relations);
  const styles: PromptStyle[] = distinct('--styles', o.styles).map(loadStyle);
  const labels = readLabelIndex(ds);
  const ck = loadCheckpoint(o.model, { entityKeys: keysForLabels(labels.labels) });
  for (const s of styles) {
    if (s.head !== 'entity') continue;
    const why = entityStyleUsable(ck);
    if (why) fail(`style "${s.name}" cannot run: ${why}`);
  }
  const options = resultOptions(o, languages);
  const fingerprint = { checkpoint: checkpointFingerprint(ck), dataset: datasetFingerprint(ds, languages, o.relations, o.templates === 'all') };
  let run: RunRecord;
  if (o.resume) {
    const prev = findRun(store, o.resume);
    if (!prev) fail(`${store.file}: no run "${o.resume}" to resume`);
    const diffs = inputDifferences(prev, { options, ...fingerprint }, [...COMPARABLE_OPTIONS, 'shard']);
    if (diffs.length) fail(`cannot resume "${prev.name}": it was run with different inputs (${diffs.join('; ')})`);
    run = prev;
    if (run.status === 'complete') return { run, stored: 0, skipped: 0, interrupted: false, warnings: [] };
    setStatus(store, run.id, 'running');
  } else {
    const name = o.name ?? `run-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    if (findRun(store, name)) fail(`${store.file}: a run named "${name}" exists; results are never overwritten (use --resume ${name} or another --name)`);
    run = createRun(store, { name, started_at: new Date().toISOString(), options, harness_version: HARNESS_VERSION, checkpoint: fingerprint.checkpoint, dataset: fingerprint.dataset, random_weights: ck.manifest.random_weights, planned: 0 });
  }

  const done = storedKeys(store, run.id);
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
    setStatus(store, run.id, 'failed');
    fail(`the selection (languages ${languages.join(', ')}${o.relations ? `; relations ${o.relations.join(', ')}` : ''}) has no query to ask: every selected relation lacks a template`);
  }
  setPlanned(store, run.id, planned);
  setPlannedLanguages(store, run.id, Object.fromEntries([...totals].map(([l, t]) => [l, t.total])));

  const session = await openSession(ck, 'gathered', { threads: o.threads, device: o.device });
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
      for await (const batch of scoreQueries(session, pending(), { batchSize: o.batchSize, tokenBudget: o.tokenBudget, headWidths: headWidths(ck), padEntityId: ck.entityVocab?.special.pad ?? 0, maxLength: maxSequenceLength(ck.config) })) {
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
  } catch (e) {
    // The original error is what the user needs; a status write can itself fail (a busy or vanished database).
    try {
      setStatus(store, run.id, 'failed');
    } catch {}
    throw e;
  } finally {
    progress.stop();
    await session.release();
  }
  const total = (store.db.prepare('SELECT COUNT(*) AS n FROM results WHERE run_id = ?').get(run.id) as { n: number }).n;
  setStatus(store, run.id, interrupted ? 'interrupted' : total === planned ? 'complete' : 'failed');
  return { run: findRun(store, String(run.id))!, stored, skipped: done.size, interrupted, warnings, shard, links: linked.size ? links : undefined };
}

export function toRow(s: ScoredQuery, shard: string | null): ResultRow {
  const q = s.built.query;
  return {
    language: q.language,
    relation: q.relation,
    template: q.template,
    subject: q.subject,
    style: s.built.style.name,
    golds: q.golds.map((g) => g.label),
    lineids: q.lineids,
    top: s.top.map((t) => ({ label: t.label, score: Number.isFinite(t.score) ? t.score : -1e30 })),
    gold_rank: s.goldRank,
    gold_score: Number.isFinite(s.goldScore) ? s.goldScore : -1e30,
    candidates: s.candidates,
    covered: s.built.covered,
    shard,
  };
}
