import type { Dataset } from '../data/mlama.js';
import type { LabelIndex } from '../data/labels.js';
import type { Checkpoint } from '../model/checkpoint.js';
import type { BuiltQuery } from '../prompts/build.js';
import { languageQueries } from '../prompts/source.js';
import type { PromptStyle } from '../prompts/styles.js';
import type { WordTokenizer } from '../tokenize/tokenizer.js';
import { median } from './measure.js';
import { naiveQueries } from './naive.js';

export interface BuildMeasure {
  queries: number;
  passes: number;
  /** Tokenizer calls per built query: the candidate cache shows as a number near 1 (the subject). */
  tokenizerCallsPerQuery: number;
  seconds: number[];
  queriesPerSecond: number;
}

export interface PromptBench {
  language: string;
  shipped: BuildMeasure;
  /** Candidates re-tokenized for every fact, on the first queries of each relation only. */
  perFact: BuildMeasure;
  speedup: number;
}

/** A tokenizer that counts its calls, so the benchmark can show what the cache saves. */
function counting(tok: WordTokenizer): { tok: WordTokenizer; calls: () => number } {
  let n = 0;
  const counted: WordTokenizer = { ...tok, encodePiece: (text, initial, after) => (n++, tok.encodePiece(text, initial, after)) };
  return { tok: counted, calls: () => n };
}

/** Queries count once however many styles each is built in; passes count in every style. */
function measure(rounds: number, build: (tok: WordTokenizer) => Iterable<BuiltQuery>, base: WordTokenizer, first: PromptStyle): BuildMeasure {
  const seconds: number[] = [];
  let queries = 0;
  let passes = 0;
  let calls = 0;
  for (let r = 0; r < rounds; r++) {
    const c = counting(base);
    const t0 = performance.now();
    queries = 0;
    passes = 0;
    for (const b of build(c.tok)) {
      if (b.style === first) queries++;
      passes += b.passes.length;
    }
    seconds.push((performance.now() - t0) / 1000);
    calls = c.calls();
  }
  return { queries, passes, tokenizerCallsPerQuery: calls / Math.max(1, queries), seconds, queriesPerSecond: queries / median(seconds) };
}

/** Builds every query of a language as the harness does, and a per-fact re-tokenizing sample beside it. */
export function benchPromptBuild(
  ds: Dataset,
  language: string,
  ck: Checkpoint,
  labels: LabelIndex,
  styles: PromptStyle[],
  o: { rounds: number; perFactLimit: number },
): PromptBench {
  const sel = { fallback: true };
  const shipped = measure(o.rounds, (tok) => languageQueries(ds, language, tok, ck.entityVocab, labels, styles, sel), ck.tokenizer, styles[0]);
  const perFact = measure(
    o.rounds,
    (tok) => naiveQueries(ds, language, { ...ck, tokenizer: tok }, labels, styles, { ...sel, limit: o.perFactLimit }),
    ck.tokenizer,
    styles[0],
  );
  return { language, shipped, perFact, speedup: shipped.queriesPerSecond / perFact.queriesPerSecond };
}
