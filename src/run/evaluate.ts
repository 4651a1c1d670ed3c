import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fail } from '../errors.js';
import type { LinkCounts } from '../tokenize/entityLinker.js';
import { PROMPTS_DIR, styleDefinitions } from '../prompts/styles.js';
import { checkpointFingerprint } from '../model/checkpoint.js';
import { openScoringSessions } from '../model/session.js';
import { acquireRun, createRun, findRun, setPlanned, setPlannedLanguages, setStatus, storedKeys, type RunRecord, type Store } from '../store/db.js';
import { runDifferences, storedOptions, withStoredOptions, type RunInputs, type RunOptions } from './config.js';
import type { ShardPlan } from './costs.js';
import { openRunContext, selectionOf, stylesLine, type RunContext } from './context.js';
import { executeRun, type Progress } from './execute.js';
import { planRun } from './plan.js';
import { liveHolder, ownLease } from './lease.js';

export type { RunOptions } from './config.js';

export type { Progress } from './execute.js';

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
export function runContext(o: RunOptions, prev?: RunRecord): RunContext {
  const ctx = openRunContext({
    data: o.data!,
    model: o.model!,
    languages: o.languages,
    styles: o.styles,
    selection: selectionOf(o),
    protocol: o.protocol,
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
 * naming them. `note` gets the run's first lines (the styles it asks and why). `opened`: the run's context as a
 * caller already opened it (runContext; `run --budget` for its pilot), not opened again.
 */
export async function evaluate(
  store: Store,
  given: RunOptions,
  progress: Progress,
  shouldStop: () => boolean,
  note: (line: string) => void = () => {},
  opened?: RunContext,
): Promise<RunOutcome> {
  const { o, prev } = startOrResume(store, given);
  const ctx = opened ?? runContext(o, prev);
  const inputs = runInputs(ctx, o);
  if (prev) {
    if (prev.harness_version !== HARNESS_VERSION && prev.status !== 'complete')
      fail(
        `cannot resume "${prev.name}": it was stored by mlama-harness ${prev.harness_version} and this is ${HARNESS_VERSION}, which may build its queries otherwise; start a new run (its answers stay stored)`,
      );
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
    run = claimRun(store, o, prev, inputs, ctx, plan.planned, done.size);
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
function claimRun(store: Store, o: RunOptions, prev: RunRecord | undefined, inputs: RunInputs, ctx: RunContext, planned: number, stored: number): RunRecord {
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
      // The answers this resume counted: another process that stored more meanwhile has the run.
      stored,
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

/** An answer as stored. Kept here for callers that import it from the run (the known-answer tests). */
export { toRow } from './execute.js';
