import type { Dataset } from '../data/mlama.js';
import { listRelations } from '../data/mlama.js';
import type { LabelIndex } from '../data/labels.js';
import { headWidths, type Checkpoint } from '../model/checkpoint.js';
import { scoreQueries, type ScoredQuery } from '../model/scorer.js';
import { openScoringSessions, openSession, type ScoringSessions } from '../model/session.js';
import type { Variant } from '../model/contract.js';
import type { BuiltQuery } from '../prompts/build.js';
import { languageQueries } from '../prompts/source.js';
import type { PromptStyle } from '../prompts/styles.js';
import { median, peakRssMb, timedSession } from './measure.js';
import { naiveQueries, naiveScore } from './naive.js';
import { queryFlops } from './flops.js';

export type Pattern = 'shipped' | 'naive';

export interface ScoringBenchOptions {
  languages: string[];
  /** Queries per language, spread over its relations. */
  perLanguage: number;
  styles: PromptStyle[];
  patterns: Pattern[];
  rounds: number;
  threads: number;
  batchSize: number;
  tokenBudget: number;
  onProgress?: (line: string) => void;
}

export interface PatternMeasure {
  pattern: Pattern;
  style: string;
  queries: number;
  /** Wall seconds per round: building the queries and scoring them. */
  seconds: number[];
  /** Seconds per round with no session.run in flight. */
  outsideRun: number[];
  queriesPerSecond: number;
  overhead: number;
  /** Useful FLOPs per second (see flops.ts), median round. */
  gflops: number;
  sessionOpenSeconds: number[];
}

export interface ScoringBench {
  measures: PatternMeasure[];
  /** (style, query) pairs where the naive and shipped patterns rank the same top-1 with scores within 1e-4. */
  agreement: { compared: number; same: number; maxScoreDiff: number };
  peakRssMb: number;
}

/** The relations each language samples from, and how many queries each gives, so the sample is fixed. */
function perRelationLimit(ds: Dataset, lang: string, perLanguage: number): number {
  return Math.max(1, Math.ceil(perLanguage / Math.max(1, listRelations(ds, lang).length)));
}

export function* sampleOf<T>(make: (lang: string, limit: number) => Iterable<T>, ds: Dataset, languages: string[], perLanguage: number): Generator<T> {
  for (const lang of languages) {
    let n = 0;
    for (const b of make(lang, perRelationLimit(ds, lang, perLanguage))) {
      if (n++ >= perLanguage) break;
      yield b;
    }
  }
}

/**
 * Scores a fixed sample with each pattern, alternating patterns within every round so machine noise hits both
 * alike. Each pattern opens its own session per round and releases it after, so the two graphs never sit in
 * memory together and the peak RSS is that of the larger one. Session creation is timed apart.
 */
export async function benchScoring(ds: Dataset, ck: Checkpoint, labels: LabelIndex, o: ScoringBenchOptions): Promise<ScoringBench> {
  const measures = new Map<string, Omit<PatternMeasure, 'queriesPerSecond' | 'overhead' | 'gflops'> & { flops: number }>();
  const firstRound = new Map<string, Map<string, ScoredQuery>>();
  const padEntityId = ck.entityVocab?.special.pad ?? 0;
  for (let round = 0; round < o.rounds; round++) {
    const order = round % 2 === 0 ? o.patterns : [...o.patterns].reverse();
    for (const pattern of order) {
      const variant: Variant = pattern === 'shipped' ? 'gathered' : 'naive';
      const t0 = performance.now();
      // The shipped pattern opens what a run opens: word-only passes on the words graph when the export has one.
      const opened: ScoringSessions =
        pattern === 'shipped'
          ? await openScoringSessions(ck, o.styles, { threads: o.threads })
          : await openSession(ck, variant, { threads: o.threads }).then((s) => ({ gathered: s, release: () => s.release() }));
      const openSeconds = (performance.now() - t0) / 1000;
      try {
        for (const style of o.styles) {
          const key = `${pattern}|${style.name}`;
          const { session, clock } = timedSession(opened.gathered);
          // One run is in flight at a time, so the two graphs' busy times add up without overlap. When every style
          // is word-only the words session is the only one, and timed once.
          const timedWords = opened.words && opened.words !== opened.gathered ? timedSession(opened.words) : undefined;
          const sel = { fallback: true };
          const start = performance.now();
          let flops = 0;
          function* count(it: Iterable<BuiltQuery>): Generator<BuiltQuery> {
            for (const b of it) {
              flops += queryFlops(ck, b);
              yield b;
            }
          }
          const qs = count(
            sampleOf(
              (lang, limit) =>
                pattern === 'shipped'
                  ? languageQueries(ds, lang, ck.tokenizer, ck.entityVocab, labels, [style], { ...sel, limit })
                  : naiveQueries(ds, lang, ck, labels, [style], { ...sel, limit }),
              ds,
              o.languages,
              o.perLanguage,
            ),
          );
          const results =
            pattern === 'shipped'
              ? scoreQueries(session, qs, {
                  batchSize: o.batchSize,
                  tokenBudget: o.tokenBudget,
                  headWidths: headWidths(ck),
                  padEntityId,
                  words: opened.words === opened.gathered ? session : timedWords?.session,
                })
              : naiveScore(session, ck, qs);
          let n = 0;
          const seen = round === 0 ? new Map<string, ScoredQuery>() : null;
          for await (const batch of results) {
            n += batch.length;
            if (seen) for (const s of batch) seen.set(`${style.name}|${s.built.query.key}`, s);
          }
          const wall = (performance.now() - start) / 1000;
          if (seen) firstRound.set(key, seen);
          let m = measures.get(key);
          if (!m) measures.set(key, (m = { pattern, style: style.name, queries: n, flops, seconds: [], outsideRun: [], sessionOpenSeconds: [] }));
          m.seconds.push(wall);
          m.outsideRun.push(wall - (clock.busyMs + (timedWords?.clock.busyMs ?? 0)) / 1000);
          m.sessionOpenSeconds.push(openSeconds);
          o.onProgress?.(`round ${round + 1}/${o.rounds} ${pattern} ${style.name}: ${n} queries in ${wall.toFixed(2)} s (${(n / wall).toFixed(1)} q/s)`);
        }
      } finally {
        await opened.release();
      }
    }
  }
  const summarised = [...measures.values()].map(({ flops, ...m }) => {
    const mid = median(m.seconds);
    return { ...m, queriesPerSecond: m.queries / mid, overhead: median(m.outsideRun.map((x, i) => x / m.seconds[i])), gflops: flops / mid / 1e9 };
  });
  return { measures: summarised, agreement: agreement(firstRound, o.styles), peakRssMb: peakRssMb() };
}

function agreement(first: Map<string, Map<string, ScoredQuery>>, styles: PromptStyle[]): ScoringBench['agreement'] {
  let compared = 0;
  let same = 0;
  let maxScoreDiff = 0;
  for (const style of styles) {
    const a = first.get(`shipped|${style.name}`);
    const b = first.get(`naive|${style.name}`);
    if (!a || !b) continue;
    for (const [k, s] of a) {
      const t = b.get(k);
      if (!t) continue;
      compared++;
      const diff = Math.abs(s.top[0].score - t.top[0].score);
      if (Number.isFinite(diff)) maxScoreDiff = Math.max(maxScoreDiff, diff);
      if (s.top[0].label === t.top[0].label && (diff < 1e-4 || s.top[0].score === t.top[0].score)) same++;
    }
  }
  return { compared, same, maxScoreDiff };
}
