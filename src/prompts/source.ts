import type { Dataset } from '../data/mlama.js';
import { readLanguage } from '../data/mlama.js';
import type { LabelIndex } from '../data/labels.js';
import type { WarningSink } from '../errors.js';
import type { EntityVocab } from '../tokenize/entityVocab.js';
import { entityLinker } from '../tokenize/entityLinker.js';
import type { WordTokenizer } from '../tokenize/tokenizer.js';
import { buildQuery, prepareRelation, rememberingPieces, type BuiltQuery, type EntityInputs } from './build.js';
import type { PromptStyle } from './styles.js';
import type { Tokenization } from './spans.js';

export interface QuerySelection {
  relations?: string[];
  /** At most this many queries per (language, relation), in file order. */
  limit?: number;
  templates?: 'main' | 'all';
  /** Wikidata-id fallback for entity lookups (off by default: the paper's protocol is `<lang>:<title>` only). */
  fallback: boolean;
  /** 'in-context' unless asked: 'spans' reproduces transformers' tokenizers (see spans.ts). */
  tokenization?: Tokenization;
}

/**
 * The queries of one (language, relation) a selection keeps, in file order: every narrowing of the query list
 * (today `limit`) is applied here, where the plan, the shard costs and the scoring all take it.
 */
export function selectQueries<Q>(queries: readonly Q[], sel: Pick<QuerySelection, 'limit'>): readonly Q[] {
  return sel.limit !== undefined ? queries.slice(0, sel.limit) : queries;
}

/** A language's queries built for every style, relation by relation; candidates are tokenized once per relation. */
export function* languageQueries(
  ds: Dataset,
  lang: string,
  tok: WordTokenizer,
  vocab: EntityVocab | null,
  labels: LabelIndex | null,
  styles: PromptStyle[],
  sel: QuerySelection,
  onWarning?: WarningSink,
): Generator<BuiltQuery> {
  const link = vocab ? entityLinker(vocab, labels, sel.fallback) : null;
  // One memory per language: a run or a benchmark round pays for each distinct piece once, not once per relation.
  const pieces = rememberingPieces(tok);
  const ent: EntityInputs | null = vocab && link ? { link, maskId: vocab.special.mask! } : null;
  for (const set of readLanguage(ds, lang, { relations: sel.relations, templates: sel.templates, onWarning })) {
    const rel = prepareRelation(set, pieces, link, sel.tokenization);
    for (const q of selectQueries(set.queries, sel)) for (const style of styles) yield buildQuery(rel, q, style, pieces, ent);
  }
}
