import { Tokenizer } from '@huggingface/tokenizers';
import { fail } from '../errors.js';
import { readJsonFile } from '../data/jsonl.js';
import { continuationPieces, gluedWord, leadingWord, type WordPieceModel, wholeWordPieces } from './wordpiece.js';

/** The special tokens of a tokenizer family, by their text in tokenizer.json. */
export interface SpecialTokens {
  bos: string;
  eos: string;
  pad: string;
  unk: string;
  mask: string;
}

/** What a model family's tokenizer looks like (see src/model/families). */
export interface TokenizerConventions {
  specials: SpecialTokens;
  /**
   * How a word start shows: 'metaspace' (SentencePiece: a word-initial piece carries `▁`, so a slot glued to
   * the text before it is tokenized without one) or 'wordpiece' (BERT: pieces inside a word carry `##`; a
   * slot always starts a word, as the [MASK] tokens of the masked sentence split words).
   */
  wordBoundary: 'metaspace' | 'wordpiece';
  /** The sequence template, for help and docs: `<s> $A </s>` or `[CLS] $A [SEP]`. */
  template: string;
}

/** The XLM-R tokenizer as fairseq lays it out (and mLUKE inherits). */
export const XLMR_TOKENIZER: TokenizerConventions = {
  specials: { bos: '<s>', eos: '</s>', pad: '<pad>', unk: '<unk>', mask: '<mask>' },
  wordBoundary: 'metaspace',
  template: '<s> $A </s>',
};

export interface SpecialIds {
  bos: number;
  eos: number;
  pad: number;
  unk: number;
  mask: number;
}

/**
 * A Hugging Face tokenizer.json (XLM-R Unigram, or BERT WordPiece), able to tokenize a piece of a sentence *in
 * context*: with SentencePiece a piece that starts the sentence or follows whitespace gets the word-initial `▁`,
 * one that follows other text does not (ja "[X]は[Y]の" puts the object right after は). That is what tokenizing
 * the whole sentence would do. WordPiece marks continuations (`##`) instead: a slot starts a word there, as the
 * [MASK] tokens of the masked sentence split words.
 */
export interface WordTokenizer {
  file: string;
  vocabSize: number;
  special: SpecialIds;
  /**
   * Token ids of `text`; `initial` when it starts the sentence. `after`: the real text just before it ('' after
   * a [MASK] or nothing); with WordPiece a first word glued to it continues that word (`##` pieces). SentencePiece
   * ignores it: its word starts depend on whitespace alone.
   */
  encodePiece(text: string, initial: boolean, after?: string): number[];
  /** Whether a piece's tokens can depend on the text before it beyond whitespace (WordPiece). */
  continuesWords: boolean;
  /** WordPiece only: the pieces of one word as given, not pre-tokenized (mLAMA's BERT connector, prompts/mlamaBert.ts). */
  encodeWord?: (word: string) => number[];
  /** Token ids of a whole sentence with <s> ... </s> (or [CLS] ... [SEP]). */
  encodeSentence(text: string): number[];
  tokenOf(id: number): string;
}

interface TokenizerJson {
  added_tokens?: { id: number; content: string }[];
  pre_tokenizer?: Record<string, unknown> | null;
  model?: { type?: string; vocab?: [string, number][] | Record<string, number> };
}

function withoutPrefixSpace(pre: Record<string, unknown> | null | undefined): Record<string, unknown> | null | undefined {
  if (!pre) return pre;
  if (pre.type === 'Metaspace') return { ...pre, prepend_scheme: 'never', add_prefix_space: false };
  if (pre.type === 'Sequence' && Array.isArray(pre.pretokenizers)) {
    return { ...pre, pretokenizers: (pre.pretokenizers as Record<string, unknown>[]).map((p) => withoutPrefixSpace(p)) };
  }
  return pre;
}

/** The fields of a tokenizer.json the harness relies on, checked before the library sees them: one line naming the field. */
function checkTokenizerJson(file: string, json: TokenizerJson): asserts json is TokenizerJson & { model: NonNullable<TokenizerJson['model']> } {
  if (!json || typeof json !== 'object' || !json.model) fail(`${file}: not a tokenizer.json (field "model" missing)`);
  // The library falls back silently on a type it does not know; the in-context piece logic assumes these.
  if (!['Unigram', 'BPE', 'WordPiece'].includes(json.model.type ?? ''))
    fail(`${file}: field "model.type" is ${JSON.stringify(json.model.type ?? null)}; expected "Unigram" (XLM-R SentencePiece), "BPE" or "WordPiece"`);
  if (Array.isArray(json.model.vocab)) {
    const bad = json.model.vocab.findIndex((v) => !Array.isArray(v) || typeof v[0] !== 'string');
    if (bad >= 0) fail(`${file}: field "model.vocab[${bad}]" must be [piece, score]`);
  }
  const added: unknown = json.added_tokens ?? [];
  if (!Array.isArray(added)) fail(`${file}: field "added_tokens" must be a list of {id, content} objects, got ${added === null ? 'null' : typeof added}`);
  added.forEach((a, i) => {
    if (
      a === null ||
      typeof a !== 'object' ||
      !Number.isInteger((a as { id?: unknown }).id) ||
      (a as { id: number }).id < 0 ||
      typeof (a as { content?: unknown }).content !== 'string'
    ) {
      fail(`${file}: field "added_tokens[${i}]" must be an object with an integer "id" and a string "content"`);
    }
  });
}

export function loadTokenizer(file: string, conventions: TokenizerConventions = XLMR_TOKENIZER): WordTokenizer {
  const json = readJsonFile(file) as TokenizerJson;
  checkTokenizerJson(file, json);
  const vocabList = Array.isArray(json.model.vocab) ? json.model.vocab.map((v) => v[0]) : null;
  if (!vocabList && (!json.model.vocab || typeof json.model.vocab !== 'object')) fail(`${file}: field "model.vocab" missing`);
  const idToToken = new Map<number, string>();
  if (vocabList) vocabList.forEach((t, i) => idToToken.set(i, t));
  else for (const [t, i] of Object.entries(json.model.vocab as Record<string, number>)) idToToken.set(i, t);
  for (const a of json.added_tokens ?? []) idToToken.set(a.id, a.content);
  const idOf = (content: string, field: string) => {
    const added = (json.added_tokens ?? []).find((a) => a.content === content);
    if (!added) fail(`${file}: field "added_tokens" has no ${field} token ${content}`);
    return added.id;
  };
  const t = conventions.specials;
  const special: SpecialIds = {
    bos: idOf(t.bos, 'bos'),
    eos: idOf(t.eos, 'eos'),
    pad: idOf(t.pad, 'pad'),
    unk: idOf(t.unk, 'unk'),
    mask: idOf(t.mask, 'mask'),
  };
  // A special token's id must be its own: <mask> at an ordinary piece's id would read that word as the mask.
  const modelPieces = new Map<number, string>(vocabList ? [] : Object.entries(json.model.vocab as Record<string, number>).map(([t, i]) => [i, t]));
  const pieceAt = (id: number) => (vocabList ? vocabList[id] : undefined) ?? modelPieces.get(id);
  for (const [content, id] of [
    [t.bos, special.bos],
    [t.eos, special.eos],
    [t.pad, special.pad],
    [t.unk, special.unk],
    [t.mask, special.mask],
  ] as const) {
    const piece = pieceAt(id);
    if (piece !== undefined && piece !== content)
      fail(`${file}: ${content} has id ${id}, which is the ordinary token ${JSON.stringify(piece)} of "model.vocab"; a special token needs its own id`);
  }
  let initial: Tokenizer;
  let continuing: Tokenizer;
  try {
    initial = new Tokenizer(json, {});
    continuing = new Tokenizer({ ...json, pre_tokenizer: withoutPrefixSpace(json.pre_tokenizer) }, {});
  } catch (e) {
    fail(`${file}: tokenizer cannot be built (${(e as Error).message})`);
  }
  const continueWord = json.model.type === 'WordPiece' ? continuationPieces(json.model as WordPieceModel, special.unk) : null;
  // A loop, not Math.max(...keys): XLM-R's 250k ids overflow the call stack as spread arguments.
  let vocabSize = 0;
  for (const id of idToToken.keys()) if (id >= vocabSize) vocabSize = id + 1;
  return {
    file,
    vocabSize,
    special,
    continuesWords: continueWord !== null,
    encodePiece: (text, isInitial, after = '') => {
      if (text === '') return [];
      const glued = continueWord && !isInitial && gluedWord(after, text) ? leadingWord(text) : '';
      const rest = text.slice(glued.length);
      const ids = rest === '' ? [] : (isInitial ? initial : continuing).encode(rest, { add_special_tokens: false }).ids;
      return continueWord && glued ? [...continueWord(glued), ...ids] : ids;
    },
    ...(continueWord ? { encodeWord: wholeWordPieces(json.model as WordPieceModel, special.unk) } : {}),
    encodeSentence: (text) => [special.bos, ...initial.encode(text, { add_special_tokens: false }).ids, special.eos],
    tokenOf: (id) => idToToken.get(id) ?? `<${id}?>`,
  };
}
