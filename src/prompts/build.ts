import { fail } from '../errors.js';
import type { Query, RelationSet } from '../data/types.js';
import { refuseHomographs, type EntityLink, type EntityLinker } from '../tokenize/entityLinker.js';
import type { PromptStyle } from './styles.js';
import { assembleMlamaBert } from './mlamaBert.js';
import { assembleSpans, type Tokenization } from './spans.js';

/** What the builder needs of a tokenizer: in-context piece encoding and the special ids. */
export interface PieceEncoder {
  encodePiece(text: string, initial: boolean, after?: string): number[];
  /** WordPiece: the template text glued after the subject continues the subject's last word, so it is tokenized per query. */
  continuesWords?: boolean;
  /** WordPiece: one word's pieces, not pre-tokenized (the `mlama` preset's BERT sentence, prompts/mlamaBert.ts). */
  encodeWord?: (word: string) => number[];
  special: { bos: number; eos: number; mask: number };
}

/** What the builder needs of an entity vocabulary: the linker and the special [MASK] id. */
export interface EntityInputs {
  link: EntityLinker;
  maskId: number;
}

interface SlotContext {
  /** Whitespace that preceded the slot in the template; it belongs to the slot's first piece. */
  leading: string;
  initial: boolean;
  /** The template text just before the slot ('' when the other slot's [MASK]s stand there), which WordPiece continues. */
  after: string;
}

/** A template cut at [X] and [Y] (either first), with its fixed text tokenized once. */
export interface PreparedTemplate {
  text: string;
  first: 'X' | 'Y';
  pieces: [number[], number[], number[]];
  /** The text of the piece after the subject, re-tokenized per query when a WordPiece word runs on from the subject. */
  afterSubject: { index: 1 | 2; text: string };
  slots: { X: SlotContext; Y: SlotContext };
}

export interface CandidateTable {
  labels: string[];
  tokens: number[][];
  entities: EntityLink[];
  /** Candidates grouped by token count, shortest first. */
  groups: { length: number; members: number[] }[];
}

/** Everything shared by the queries of one (language, relation, template): built once, not per fact. */
export interface PreparedRelation {
  set: RelationSet;
  template: PreparedTemplate;
  candidates: CandidateTable;
  tokenization: Tokenization;
  /** Candidate index by label, for the golds: built once per relation, not once per query. */
  labelIndex: Map<string, number>;
}

/** One forward pass: a word sequence, optional entities (slot 0 is the object [MASK]), the candidates it ranks. */
export interface Pass {
  inputIds: number[];
  maskPositions: number[];
  entityIds: number[];
  entityPositions: number[][];
  candidates: number[];
}

export interface BuiltQuery {
  query: Query;
  relation: PreparedRelation;
  style: PromptStyle;
  subjectPositions: number[];
  subjectEntity: EntityLink | null;
  passes: Pass[];
  /** Candidate indices of the gold objects. */
  golds: number[];
  /** Entity styles: some gold object has an entity id (else the query cannot be answered by the entity head). */
  covered: boolean;
}

export function prepareTemplate(text: string, tok: PieceEncoder, where = text): PreparedTemplate {
  const ix = text.indexOf('[X]');
  const iy = text.indexOf('[Y]');
  if (ix < 0 || iy < 0 || text.indexOf('[X]', ix + 1) >= 0 || text.indexOf('[Y]', iy + 1) >= 0) {
    fail(`${where}: template must contain exactly one [X] and one [Y]: ${JSON.stringify(text)}`);
  }
  const first: 'X' | 'Y' = ix < iy ? 'X' : 'Y';
  const [a, b] = first === 'X' ? [ix, iy] : [iy, ix];
  const before = text.slice(0, a);
  const between = text.slice(a + 3, b);
  const after = text.slice(b + 3).trimEnd();
  const beforeText = before.trimEnd();
  const betweenText = between.trimEnd();
  const firstSlot: SlotContext = { leading: before.slice(beforeText.length), initial: beforeText === '', after: beforeText };
  const secondSlot: SlotContext = { leading: between.slice(betweenText.length), initial: false, after: betweenText };
  return {
    text,
    first,
    pieces: [tok.encodePiece(beforeText, true), tok.encodePiece(betweenText, false), tok.encodePiece(after, false)],
    afterSubject: first === 'X' ? { index: 1, text: betweenText } : { index: 2, text: after },
    slots: first === 'X' ? { X: firstSlot, Y: secondSlot } : { X: secondSlot, Y: firstSlot },
  };
}

/**
 * `tok` with its pieces remembered: a language's relations share many objects (countries, cities, languages) and
 * a subject recurs across relations, each tokenized in the same context. Returned arrays are shared: callers copy.
 */
export function rememberingPieces<T extends PieceEncoder>(tok: T): T {
  const known = new Map<string, number[]>();
  return {
    ...tok,
    encodePiece: (text: string, initial: boolean, after = '') => {
      const key = `${initial ? 1 : 0}\u0000${after}\u0000${text}`;
      let ids = known.get(key);
      if (!ids) known.set(key, (ids = tok.encodePiece(text, initial, after)));
      return ids;
    },
  };
}

export function encodeSlot(ctx: SlotContext, value: string, tok: PieceEncoder): number[] {
  return tok.encodePiece(ctx.leading + value, ctx.initial, ctx.after);
}

export function prepareRelation(set: RelationSet, tok: PieceEncoder, link: EntityLinker | null, tokenization: Tokenization = 'in-context'): PreparedRelation {
  const template = prepareTemplate(set.template.text, tok, set.template.source);
  if (tokenization === 'pieces-alone') template.pieces = alonePieces(set.template.text, template.first, tok);
  // A candidate stands where the [MASK]s stand, which split words: it starts a word of its own. 'spans': a
  // candidate is its own piece, as the tokenizer cuts an entity span out of the sentence.
  const candidateSlot = { ...template.slots.Y, after: '' };
  const alone = tokenization !== 'in-context';
  const tokens = set.candidates.map((c) => (alone ? tok.encodePiece(c.label.trim(), true) : encodeSlot(candidateSlot, c.label, tok)));
  const byLength = new Map<number, number[]>();
  tokens.forEach((t, i) => {
    if (t.length === 0) fail(`${set.language}/${set.relation}: candidate ${JSON.stringify(set.candidates[i].label)} has no tokens`);
    const g = byLength.get(t.length) ?? [];
    g.push(i);
    byLength.set(t.length, g);
  });
  const groups = [...byLength.entries()].sort((x, y) => x[0] - y[0]).map(([length, members]) => ({ length, members }));
  const entities = refuseHomographs(
    set.candidates.map((c) => (link ? link(set.language, c.label, c.uri) : { id: null, via: 'none' as const })),
    set.candidates.map((c) => c.uri),
  );
  const labels = set.candidates.map((c) => c.label);
  return { set, template, candidates: { labels, tokens, entities, groups }, tokenization, labelIndex: new Map(labels.map((l, i) => [l, i])) };
}

/** The three template pieces each tokenized on its own as a word start; an empty piece has no tokens. */
function alonePieces(text: string, first: 'X' | 'Y', tok: PieceEncoder): PreparedTemplate['pieces'] {
  const [a, b] = first === 'X' ? [text.indexOf('[X]'), text.indexOf('[Y]')] : [text.indexOf('[Y]'), text.indexOf('[X]')];
  const alone = (piece: string) => (piece.trim() === '' ? [] : tok.encodePiece(piece.trim(), true));
  return [alone(text.slice(0, a)), alone(text.slice(a + 3, b)), alone(text.slice(b + 3))];
}

/** The word sequence <s> piece slot piece slot piece </s>, with the positions of each slot. */
function assemble(t: PreparedTemplate, subject: number[], masks: number, tok: PieceEncoder, pieces = t.pieces) {
  const ids = [tok.special.bos, ...pieces[0]];
  const place = (slot: 'X' | 'Y') => {
    const start = ids.length;
    if (slot === 'X') ids.push(...subject);
    else for (let i = 0; i < masks; i++) ids.push(tok.special.mask);
    return Array.from({ length: ids.length - start }, (_, i) => start + i);
  };
  const firstPositions = place(t.first);
  ids.push(...pieces[1]);
  const secondPositions = place(t.first === 'X' ? 'Y' : 'X');
  ids.push(...pieces[2], tok.special.eos);
  const [subjectPositions, maskPositions] = t.first === 'X' ? [firstPositions, secondPositions] : [secondPositions, firstPositions];
  return { ids, subjectPositions, maskPositions };
}

/** The model inputs of one query under one style: pure, given the prepared relation. */
export function buildQuery(rel: PreparedRelation, query: Query, style: PromptStyle, tok: PieceEncoder, ent: EntityInputs | null): BuiltQuery {
  if (style.entityInputs && !ent) fail(`prompt style "${style.name}" needs an entity vocabulary`);
  const piecesAlone = rel.tokenization === 'pieces-alone';
  const subject = piecesAlone ? tok.encodePiece(query.subject.trim(), true) : encodeSlot(rel.template.slots.X, query.subject, tok);
  const t = rel.template;
  const pieces = t.pieces.slice() as PreparedTemplate['pieces'];
  if (tok.continuesWords && !piecesAlone) pieces[t.afterSubject.index] = tok.encodePiece(t.afterSubject.text, false, query.subject);
  const subjectEntity = style.subjectEntity === 'entity' && ent ? ent.link(query.language, query.subject, query.subjectUri) : null;
  const groups = style.objectMasks === 'single' ? [{ length: 1, members: rel.candidates.labels.map((_, i) => i) }] : rel.candidates.groups;
  let subjectPositions: number[] = [];
  // With 'spans' the subject is cut out of the sentence only where the tokenizer would be given its span.
  const subjectIsSpan = style.head === 'entity' && (style.subjectEntity === 'mask' || (subjectEntity !== null && subjectEntity.id !== null));
  // mLAMA's own BERT connector: the sentence as its basic tokenizer cuts it, where a [MASK] moves text (mlamaBert.ts).
  const encodeWord = rel.tokenization === 'candidates-alone' ? tok.encodeWord : undefined;
  const passes: Pass[] = groups.map((g) => {
    const {
      ids,
      subjectPositions: sp,
      maskPositions,
    } = encodeWord
      ? assembleMlamaBert(rel.template.text, query.subject, g.length, { ...tok, encodeWord })
      : rel.tokenization === 'spans'
        ? assembleSpans(rel.template.text, query.subject, g.length, subjectIsSpan, tok)
        : assemble(rel.template, subject, g.length, tok, pieces);
    subjectPositions = sp;
    const entityIds: number[] = [];
    const entityPositions: number[][] = [];
    if (style.entityInputs && ent) {
      entityIds.push(ent.maskId);
      entityPositions.push(maskPositions);
      if (style.subjectEntity === 'mask') {
        entityIds.push(ent.maskId);
        entityPositions.push(sp);
      } else if (subjectEntity && subjectEntity.id !== null) {
        entityIds.push(subjectEntity.id);
        entityPositions.push(sp);
      }
    }
    return { inputIds: ids, maskPositions, entityIds, entityPositions, candidates: g.members };
  });
  const golds = query.golds.map((g) => rel.labelIndex.get(g.label)).filter((i): i is number => i !== undefined);
  if (golds.length !== query.golds.length) fail(`${query.language}/${query.relation}: a gold object of ${JSON.stringify(query.subject)} is not a candidate`);
  const covered = style.head === 'entity' ? golds.some((i) => rel.candidates.entities[i].id !== null) : true;
  return { query, relation: rel, style, subjectPositions, subjectEntity, passes, golds, covered };
}
