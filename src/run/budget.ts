import { fail } from '../errors.js';
import type { Checkpoint } from '../model/checkpoint.js';
import { openScoringSessions } from '../model/session.js';
import { scoreQueries } from '../model/scorer.js';
import { languageQueries } from '../prompts/source.js';
import type { BuiltQuery } from '../prompts/build.js';
import type { PromptStyle } from '../prompts/styles.js';
import { queryFlops } from '../bench/flops.js';
import type { RunOptions } from './config.js';
import type { RunContext } from './context.js';
import { runScoring } from './execute.js';

/** Queries per style scored to measure this machine's rate on this checkpoint, after one warm-up batch. */
const PILOT = 96;

export interface BudgetChoice {
  /** Queries per language; null where the budget pays for the whole selection, which a run without --sample asks. */
  size: number | null;
  /** Seconds one query of each language costs in all styles, from its useful FLOPs and the measured rate. */
  secondsPerQuery: Record<string, number>;
  gflops: number;
  /** Queries per language the selection holds (the sample cannot be larger). */
  available: Record<string, number>;
}

/** The sample size a budget pays for: N per language with N x (sum over languages of seconds per query) <= budget. */
export function sizeForBudget(minutes: number, secondsPerQuery: Record<string, number>): number {
  const perN = Object.values(secondsPerQuery).reduce((s, x) => s + x, 0);
  return perN > 0 ? Math.floor((minutes * 60) / perN) : Number.POSITIVE_INFINITY;
}

/**
 * The measured cost model for `--budget`: every selected query built as the run builds it and its useful FLOPs
 * counted (src/bench/flops.ts), divided by the useful FLOP rate of a short pilot scored here with the run's own
 * sessions. The pilot's first batch (session warm-up) is not timed. `ctx` is the run's own context, opened once
 * for the pilot and the run.
 */
export async function chooseSample(ctx: RunContext, o: RunOptions, minutes: number): Promise<BudgetChoice> {
  const { ds, languages, labels, ck, styles } = ctx;
  // The cost model prices the whole selection: the sample it chooses is drawn from it afterwards.
  const sel = { ...ctx.selection, sample: undefined };
  const flops: Record<string, number> = {};
  const available: Record<string, number> = {};
  const pilot: BuiltQuery[] = [];
  const inPilot = new Map<string, number>();
  for (const lang of languages) {
    const subjects = new Set<string>();
    let total = 0;
    for (const b of languageQueries(ds, lang, ck.tokenizer, ck.entityVocab, labels, styles, sel)) {
      total += queryFlops(ck, b);
      subjects.add(`${b.query.relation}|${b.query.subject}`);
      if ((inPilot.get(b.style.name) ?? 0) < PILOT) {
        inPilot.set(b.style.name, (inPilot.get(b.style.name) ?? 0) + 1);
        pilot.push(b);
      }
    }
    available[lang] = subjects.size;
    flops[lang] = subjects.size ? total / subjects.size : 0;
  }
  const gflops = await pilotRate(ck, styles, pilot, o);
  const secondsPerQuery = Object.fromEntries(languages.map((l) => [l, flops[l] / (gflops * 1e9)]));
  const fit = sizeForBudget(minutes, secondsPerQuery);
  if (fit < 1)
    fail(`--budget ${minutes} minutes does not pay for one query per language (${fmtSeconds(secondsPerQuery)} per query at ${gflops.toFixed(1)} GFLOP/s)`);
  // A sample as large as every language selects everything: asked as no sample, it pairs with full runs.
  return { size: fit >= Math.max(...Object.values(available)) ? null : fit, secondsPerQuery, gflops, available };
}

async function pilotRate(ck: Checkpoint, styles: PromptStyle[], pilot: BuiltQuery[], o: RunOptions): Promise<number> {
  const { gathered, words, release } = await openScoringSessions(ck, styles, { threads: o.threads, device: o.device });
  try {
    const opts = runScoring(ck, o, words);
    const t0 = performance.now();
    let afterFirst = 0;
    let flopsAfterFirst = 0;
    let all = 0;
    for await (const batch of scoreQueries(gathered, pilot, opts)) {
      const f = batch.reduce((s, q) => s + queryFlops(ck, q.built), 0);
      if (afterFirst === 0) afterFirst = performance.now();
      else flopsAfterFirst += f;
      all += f;
    }
    const end = performance.now();
    // Past the first batch (which pays the sessions' warm-up) when there is more than one; else the whole pilot.
    return flopsAfterFirst > 0 ? flopsAfterFirst / ((end - afterFirst) / 1000) / 1e9 : all / (Math.max(1, end - t0) / 1000) / 1e9;
  } finally {
    await release();
  }
}

function fmtSeconds(perQuery: Record<string, number>): string {
  return Object.entries(perQuery)
    .map(([l, s]) => `${l} ${(1000 * s).toFixed(1)} ms`)
    .join(', ');
}

/** The line a run prints for its budget. */
export function budgetLine(minutes: number, c: BudgetChoice): string {
  const langs = Object.keys(c.secondsPerQuery);
  const seconds = langs.reduce((s, l) => s + Math.min(c.size ?? Number.POSITIVE_INFINITY, c.available[l]) * c.secondsPerQuery[l], 0);
  const choice = c.size === null ? 'the whole selection fits, no --sample' : `--sample ${c.size} per language`;
  return `--budget ${minutes} min: ${choice} (${langs.length} languages, est. ${(seconds / 60).toFixed(1)} min at ${c.gflops.toFixed(1)} useful GFLOP/s measured on a pilot here; per query in all styles: ${fmtSeconds(c.secondsPerQuery)})`;
}
