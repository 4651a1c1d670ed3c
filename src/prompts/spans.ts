import type { PieceEncoder } from './build.js';

/**
 * How the word sequence is tokenized. 'in-context' (the default): each template piece and slot in place, a piece
 * gets the word-initial `▁` only after whitespace (ja "[X]は[Y]の"). 'spans': what transformers' MLukeTokenizer
 * and XLMRobertaTokenizer do when a user calls `tok(text, entities=..., entity_spans=...)` on the filled sentence:
 * the text is cut only at entity spans and at the `<mask>` run, and every cut-out piece starts a word (SentencePiece's
 * dummy prefix). 'spans' exists to show the harness reproduces the tokenizer exactly when its choice is off.
 * 'pieces-alone': every template piece, the subject and each candidate tokenized on its own, each starting a word
 * (the authors' script with MLukeTokenizer: its in-context path is taken only for an XLMRobertaTokenizer).
 * 'candidates-alone': the candidates on their own (mLAMA's original scripts); the sentence in context, or with a
 * WordPiece model as mLAMA's BERT connector cuts it (prompts/mlamaBert.ts: a [MASK] moves the text glued to it).
 */
export type Tokenization = 'in-context' | 'spans' | 'pieces-alone' | 'candidates-alone';

const MASK_TEXT = '<mask>';

/**
 * The word sequence of a filled template as MLukeTokenizer builds it: cuts at the span ends (a cut right after a
 * space moves before it, as the tokenizer does), each piece encoded on its own, the mask run as mask ids.
 * Returns positions in the full sequence (`<s>` = 0), the same numbers as the tokenizer's entity position ids.
 */
export function assembleSpans(template: string, subject: string, masks: number, subjectIsSpan: boolean, tok: PieceEncoder) {
  const run = MASK_TEXT.repeat(masks);
  const ix = template.indexOf('[X]');
  const iy = template.indexOf('[Y]');
  const xFirst = ix < iy;
  const filled = xFirst
    ? template.slice(0, ix) + subject + template.slice(ix + 3, iy) + run + template.slice(iy + 3)
    : template.slice(0, iy) + run + template.slice(iy + 3, ix) + subject + template.slice(ix + 3);
  const xs = xFirst ? ix : ix - 3 + run.length;
  const ys = xFirst ? iy - 3 + subject.length : iy;
  const spans: [number, number][] = [[ys, ys + run.length]];
  if (subjectIsSpan) spans.push([xs, xs + subject.length]);
  const cuts = [...new Set(spans.flat())].sort((a, b) => a - b);
  const ids = [tok.special.bos];
  const encode = (piece: string) => {
    const t = piece.trim();
    if (t === '') return;
    if (t === run) for (let i = 0; i < masks; i++) ids.push(tok.special.mask);
    else ids.push(...tok.encodePiece(t, true));
  };
  const tokenAt = new Map<number, number>();
  let cur = 0;
  for (const c of cuts) {
    const split = c > 0 && filled[c - 1] === ' ' ? c - 1 : c;
    if (cur !== split) {
      encode(filled.slice(cur, split));
      cur = split;
    }
    tokenAt.set(c, ids.length);
  }
  encode(filled.slice(cur));
  ids.push(tok.special.eos);
  const range = ([s, e]: [number, number]) => Array.from({ length: tokenAt.get(e)! - tokenAt.get(s)! }, (_, i) => tokenAt.get(s)! + i);
  return { ids, maskPositions: range(spans[0]), subjectPositions: subjectIsSpan ? range(spans[1]) : [] };
}
