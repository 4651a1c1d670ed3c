import type { Dataset } from '../data/mlama.js';
import { readLanguage } from '../data/mlama.js';
import type { RelationSet } from '../data/types.js';
import { sampleKey, sampleSubjects, type SampleSpec } from './sample.js';
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
  /** A seeded sample of N queries per language, stratified over relations (src/run/sample.ts); after `limit`. */
  sample?: SampleSpec;
}

/**
 * A language's relation sets with the selection applied: `limit` (file order) and then `sample`. Without a
 * sample the sets are read one at a time; a sample needs every relation's size first.
 */
export function* selectedSets(ds: Dataset, lang: string, sel: QuerySelection, onWarning?: WarningSink): Generator<RelationSet> {
  const sets = readLanguage(ds, lang, { relations: sel.relations, templates: sel.templates, onWarning });
  const limited = (set: RelationSet) => (sel.limit !== undefined ? { ...set, queries: set.queries.slice(0, sel.limit) } : set);
  if (!sel.sample) {
    for (const set of sets) yield limited(set);
    return;
  }
  const all = [...sets].map(limited);
  const subjects = new Map<string, Set<string>>();
  for (const set of all) for (const q of set.queries) subjects.set(set.relation, (subjects.get(set.relation) ?? new Set()).add(q.subject));
  const chosen = sampleSubjects(
    lang,
    [...subjects].map(([relation, s]) => ({ relation, subjects: [...s] })),
    sel.sample,
  );
  for (const set of all) yield { ...set, queries: set.queries.filter((q) => chosen.has(sampleKey(set.relation, q.subject))) };
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
  for (const set of selectedSets(ds, lang, sel, onWarning)) {
    const rel = prepareRelation(set, pieces, link, sel.tokenization);
    for (const q of set.queries) for (const style of styles) yield buildQuery(rel, q, style, pieces, ent);
  }
}
