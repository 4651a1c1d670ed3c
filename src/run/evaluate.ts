import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fail } from '../errors.js';
import { linkCounts, type LinkCounts } from '../tokenize/entityLinker.js';
import { loadStyle, PROMPTS_DIR, styleDefinitions } from '../prompts/styles.js';
import { languageQueries } from '../prompts/source.js';
import type { BuiltQuery } from '../prompts/build.js';
import { checkpointFingerprint, clearHashCache, headWidths, maxSequenceLength } from '../model/checkpoint.js';
import { headSpec } from '../model/heads.js';
import { openScoringSessions, type ScoringSessions } from '../model/session.js';
import { scoreQueries, type ScoredQuery } from '../model/scorer.js';
import {
  acquireRun,
  checkStoreFile,
  createRun,
  findRun,
  heartbeat,
  resultWriter,
  setPlanned,
  setPlannedLanguages,
  setStatus,
  storedKeys,
  type ResultRow,
  type RunRecord,
  type Store,
} from '../store/db.js';
import { inputDifferences, runDifferences, storedOptions, styleDifferences, withStoredOptions, type RunInputs, type RunOptions } from './config.js';
import { datasetFingerprint } from './fingerprint.js';
import type { ShardPlan } from './costs.js';
import { shardName } from './shard.js';
import { openRunContext, selectionOf, stylesLine, type RunContext } from './context.js';
import { answerKey, planRun, type RunPlan } from './plan.js';
import { HEARTBEAT_MS, hold, liveHolder, ownLease } from './lease.js';

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

/** How a run starts: a new run checked against the names stored, or a stored one to continue with its options. */
function startOrResume(store: Store, o: RunOptions): { o: RunOptions; prev?: RunRecord } {
  if (!o.resume) {
    if (!o.model || !o.data) fail(`run: --model and --data are required (or --resume NAME)`);
    if (o.name !== undefined) refuseExisting(store, o.name);
    return { o };
  }
  const prev = findRun(store, o.resume);
  if (!prev) fail(`${store.file}: no run "${o.resume}" to resume`);
  const holder = liveHolder(prev, store.file);
  if (holder) fail(`cannot resume "${prev.name}": it is still running (${holder}); wait for it or stop it first`);
  return { o: withStoredRun(prev, o), prev };
}

/** The run's context: data, labels, checkpoint at its precision and styles, loaded once for plan and scoring. */
function runContext(o: RunOptions, prev: RunRecord | undefined): RunContext {
  const ctx = openRunContext({
    data: o.data!,
    model: o.model!,
    languages: o.languages,
    styles: o.styles,
    selection: selectionOf(o),
    precision: o.precision ?? 'float32',
    hold: true,
    serve: true,
    fingerprint: true,
  });
  const restated = o.given ? o.given.includes('styles') : true;
  return prev && !restated ? { ...ctx, stylesChosen: `as stored with run "${prev.name}"` } : ctx;
}

/** What a run stores as its inputs: options (with each style's whole definition), checkpoint and data fingerprints. */
function runInputs(ctx: RunContext, o: RunOptions): RunInputs {
  const options = {
    ...storedOptions({ ...o, languages: ctx.languages, precision: o.precision ?? 'float32', styles: o.styles ?? ctx.styles.map((s) => s.name) }),
    style_definitions: styleDefinitions(ctx.styles),
  };
  return { options, checkpoint: checkpointFingerprint(ctx.ck), dataset: ctx.dataset };
}

/**
 * An evaluation run: loads its context once, plans it, then scores and stores each batch in one transaction
 * (executeRun). Stops cleanly on `shouldStop()` (Ctrl-C) with what is done kept and the run marked interrupted.
 * The run is stored only once its queries are planned and its graph loads, and held by a lease while it runs; at
 * the end its inputs and its results file are checked again, and a run whose inputs changed meanwhile fails
 * naming them. `note` gets the run's first lines (the styles it asks and why).
 */
export async function evaluate(
  store: Store,
  given: RunOptions,
  progress: Progress,
  shouldStop: () => boolean,
  note: (line: string) => void = () => {},
): Promise<RunOutcome> {
  const { o, prev } = startOrResume(store, given);
  const ctx = runContext(o, prev);
  const inputs = runInputs(ctx, o);
  if (prev) {
    const diffs = runDifferences('resume', prev, inputs);
    if (diffs.length) fail(`cannot resume "${prev.name}": it was run with different inputs (${diffs.join('; ')})`);
    if (prev.status === 'complete') return { run: prev, stored: 0, skipped: 0, interrupted: false, warnings: [] };
  }
  note(stylesLine(ctx));
  const done = prev ? storedKeys(store, prev.id) : new Set<string>();
  const plan = planRun(ctx, done, o.shard);
  if (plan.planned === 0 && !o.shard) {
    fail(
      `the selection (languages ${ctx.languages.join(', ')}${o.relations ? `; relations ${o.relations.join(', ')}` : ''}) has no query to ask: every selected relation lacks a template`,
    );
  }
  const sessions = await openScoringSessions(ctx.ck, ctx.styles, { threads: o.threads, device: o.device });
  // Only now is the run stored or taken over: a failure above leaves no `running` run behind.
  let run: RunRecord;
  try {
    run = claimRun(store, o, prev, inputs, ctx, plan.planned);
  } catch (e) {
    await sessions.release();
    throw e;
  }
  setPlannedLanguages(store, run.id, Object.fromEntries([...plan.totals].map(([l, t]) => [l, t.total])));
  const r = await executeRun({ store, run, ctx, plan, done, sessions, o, inputs, progress, shouldStop });
  const total = (store.db.prepare('SELECT COUNT(*) AS n FROM results WHERE run_id = ?').get(run.id) as { n: number }).n;
  setStatus(store, run.id, r.interrupted ? 'interrupted' : total === plan.planned ? 'complete' : 'failed');
  return {
    run: findRun(store, String(run.id))!,
    stored: r.stored,
    skipped: done.size,
    interrupted: r.interrupted,
    warnings: r.warnings,
    shard: plan.shard,
    links: r.links,
  };
}

/** The run row: a resumed run taken over under a new lease, or a new run stored with its inputs. */
function claimRun(store: Store, o: RunOptions, prev: RunRecord | undefined, inputs: RunInputs, ctx: RunContext, planned: number): RunRecord {
  const lease = ownLease();
  if (prev) {
    const run = acquireRun(
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
    return run;
  }
  const name = o.name ?? `run-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  refuseExisting(store, name);
  return createRun(store, {
    name,
    started_at: new Date().toISOString(),
    options: inputs.options,
    harness_version: HARNESS_VERSION,
    checkpoint: inputs.checkpoint,
    dataset: inputs.dataset,
    random_weights: ctx.ck.manifest.random_weights,
    planned,
    model_path: resolve(o.model!),
    data_path: resolve(o.data!),
    label: o.label ?? null,
    lease,
  });
}

interface Execution {
  store: Store;
  run: RunRecord;
  ctx: RunContext;
  plan: RunPlan;
  done: ReadonlySet<string>;
  sessions: ScoringSessions;
  o: RunOptions;
  inputs: RunInputs;
  progress: Progress;
  shouldStop: () => boolean;
}

/**
 * Executes a claimed run: holds its lease with a heartbeat, scores language by language what the plan owes, and
 * checks at the end that the results file and every input are still what was read at the start.
 */
async function executeRun(x: Execution): Promise<{ stored: number; interrupted: boolean; warnings: string[]; links?: LinkCounts }> {
  const { store, run } = x;
  hold(store.file, run.id, true);
  const beat = setInterval(() => {
    try {
      heartbeat(store, run.id, ownLease().pid);
    } catch {
      // A busy database delays one heartbeat; the next one comes in HEARTBEAT_MS.
    }
  }, HEARTBEAT_MS);
  beat.unref();
  const warnings: string[] = [];
  const tally = linkTally();
  let stored = 0;
  let interrupted = false;
  try {
    for (const lang of x.ctx.languages) {
      const t = x.plan.totals.get(lang)!;
      if (t.total === t.done) continue;
      x.progress.start(lang, t.total, t.done);
      const n = await scoreLanguage(x, lang, (w) => warnings.push(w), tally.count);
      stored += n.stored;
      if ((interrupted = n.interrupted)) break;
    }
    checkStoreFile(store);
    checkInputsUnchanged(run.name, x.ctx, x.inputs);
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
    x.progress.stop();
    await x.sessions.release();
  }
  return { stored, interrupted, warnings, links: tally.links() };
}

/** How the candidate labels of the entity styles' sets scored in this session were linked, each relation once. */
function linkTally() {
  const seen = new Set<BuiltQuery['relation']>();
  const links: LinkCounts = { direct: 0, fallback: 0, refused: 0, none: 0 };
  return {
    count(b: BuiltQuery): void {
      if (!headSpec(b.style.head).coverage || seen.has(b.relation)) return;
      seen.add(b.relation);
      const c = linkCounts(b.relation.candidates.entities);
      for (const k of Object.keys(links) as (keyof LinkCounts)[]) links[k] += c[k];
    },
    links: () => (seen.size ? links : undefined),
  };
}

/** Scores what one language still owes and stores it batch by batch; stops after a batch when asked. */
async function scoreLanguage(x: Execution, lang: string, warn: (w: string) => void, seen: (b: BuiltQuery) => void) {
  const { ctx, plan, done, o } = x;
  const { ck } = ctx;
  function* pending(): Generator<BuiltQuery> {
    for (const b of languageQueries(ctx.ds, lang, ck.tokenizer, ck.entityVocab, ctx.labels, ctx.styles, ctx.selection, warn)) {
      if (!plan.owns(b.query.key) || done.has(answerKey(b.style.name, b.query))) continue;
      seen(b);
      yield b;
    }
  }
  const write = resultWriter(x.store, x.run.id);
  const shardTag = o.shard ? shardName(o.shard) : null;
  let stored = 0;
  for await (const batch of scoreQueries(x.sessions.gathered, pending(), {
    batchSize: o.batchSize,
    tokenBudget: o.tokenBudget,
    headWidths: headWidths(ck),
    padEntityId: ck.entityVocab?.special.pad ?? 0,
    maxLength: maxSequenceLength(ck.config, ck.family),
    words: x.sessions.words,
  })) {
    write(batch.map((s) => toRow(s, shardTag)));
    stored += batch.length;
    x.progress.advance(lang, batch.length);
    if (x.shouldStop()) return { stored, interrupted: true };
  }
  return { stored, interrupted: false };
}

/**
 * What was read at the start must still be what is there: answers scored under other weights, data or style
 * definitions cannot be counted as this run's.
 */
function checkInputsUnchanged(name: string, ctx: RunContext, inputs: RunInputs): void {
  clearHashCache();
  const now: RunInputs = {
    options: { ...inputs.options, style_definitions: styleDefinitions(ctx.styles.map((s) => loadStyle(s.file ?? s.name))) },
    checkpoint: checkpointFingerprint(ctx.ck),
    dataset: datasetFingerprint(ctx.ds, ctx.read),
  };
  const changed = [...inputDifferences(inputs, now, []), ...styleDifferences(inputs.options, now.options)];
  if (changed.length)
    fail(`run "${name}" failed: its inputs changed while it ran (${changed.join('; ')}); the stored answers may mix old and new inputs, so start a new run`);
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
    sub_uri: q.subjectUri,
    gold_uris: q.golds.map((g) => g.uri ?? null),
    tie: s.goldTie,
    // Paraphrases are read from <lang>/paraphrases/; the main template from templates.jsonl.
    template_main: !/[\\/]paraphrases[\\/]/.test(s.built.relation.set.template.source),
  };
}
