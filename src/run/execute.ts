/** Executing a claimed run: lease heartbeat, the scoring loop language by language, and the end-of-run check. */
import { fail } from '../errors.js';
import { linkCounts, type LinkCounts } from '../tokenize/entityLinker.js';
import { loadStyle, styleDefinitions } from '../prompts/styles.js';
import { languageQueries } from '../prompts/source.js';
import type { BuiltQuery } from '../prompts/build.js';
import { checkpointFingerprint, clearHashCache, headWidths, maxSequenceLength, type Checkpoint } from '../model/checkpoint.js';
import { headSpec } from '../model/heads.js';
import type { ScoringSessions } from '../model/session.js';
import { scoreQueries, type ScoredQuery, type ScorerOptions } from '../model/scorer.js';
import { checkStoreFile, heartbeat, resultWriter, setStatus, type ResultRow, type RunRecord, type Store } from '../store/db.js';
import { inputDifferences, scorerSettings, styleDifferences, type RunInputs, type RunOptions } from './config.js';
import { datasetFingerprint } from './fingerprint.js';
import { shardName } from './shard.js';
import type { RunContext } from './context.js';
import { answerKey, type RunPlan } from './plan.js';
import { HEARTBEAT_MS, hold, ownLease } from './lease.js';

export interface Progress {
  start(language: string, total: number, done: number): void;
  advance(language: string, n: number): void;
  stop(): void;
}

/** What executing a claimed run takes: its store and row, context, plan, stored keys, sessions and options. */
export interface Execution {
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
export async function executeRun(x: Execution): Promise<{ stored: number; interrupted: boolean; warnings: string[]; links?: LinkCounts }> {
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

/**
 * The scorer's settings of a run on `ck`: what its options set (scorerSettings) and what the checkpoint sets. The
 * --budget pilot scores with these too, so it times what the run will do (the protocol's top k among them).
 */
export function runScoring(ck: Checkpoint, o: RunOptions, words: ScorerOptions['words']): ScorerOptions {
  return {
    ...scorerSettings(o),
    headWidths: headWidths(ck),
    padEntityId: ck.entityVocab?.special.pad ?? 0,
    maxLength: maxSequenceLength(ck.config, ck.family),
    words,
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
  for await (const batch of scoreQueries(x.sessions.gathered, pending(), runScoring(ck, o, x.sessions.words))) {
    write(batch.map((s) => toRow(s, shardTag)));
    stored += batch.length;
    x.progress.advance(lang, batch.length);
    if (x.shouldStop()) return { stored, interrupted: true };
  }
  return { stored, interrupted: false };
}

/** A candidate the file lists more than once keeps its count on the stored answer (the authors' ranks count it). */
const copiesOf = (c: { copies?: number } | undefined) => (c?.copies ? { copies: c.copies } : {});

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
    top: s.top.map((t) => ({
      label: t.label,
      score: Number.isFinite(t.score) ? t.score : -1e30,
      uri: candidates[t.index]?.uri ?? null,
      ...copiesOf(candidates[t.index]),
    })),
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
