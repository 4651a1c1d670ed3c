import { fail } from '../errors.js';
import type { PieceEncoder } from './build.js';

/**
 * The masked sentence as mLAMA's original BERT connector tokenizes it (norakassner/mlama, the `mlama` preset with a
 * WordPiece model; docs/PROTOCOLS.md). Their basic tokenizer keeps [MASK] whole by a rule that moves text: a
 * whitespace-separated token holding [MASK] becomes [MASK] followed by the rest of that token, mask removed, as one
 * word that is neither split at punctuation nor kept in order (ja "…ランドは[MASK]の" gives [MASK] then
 * "…ランドはの", which WordPiece reads as one word). CJK ideographs are split off first, so they stay in place.
 */
const MASK = '[MASK]';
// The ranges BERT's basic tokenizer treats as CJK ideographs (spaced out before words are cut).
const CJK = /([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2a6df}\u{2a700}-\u{2ceaf}\u{2f800}-\u{2fa1f}])/gu;
// Dropped by the basic tokenizer's cleaning: U+FFFD and control/format characters (NUL among them) but whitespace.
const DROPPED = /\ufffd|(?![\t\n\r])[\p{Cc}\p{Cf}]/gu;

export interface MlamaWord {
  text: string;
  /** 'mask': [MASK]; 'rest': what was glued to a mask, one WordPiece word; 'plain': split at punctuation as usual. */
  kind: 'mask' | 'rest' | 'plain';
}

/** The words their tokenizer cuts a sentence into, before WordPiece. */
export function mlamaBertWords(sentence: string): MlamaWord[] {
  const words: MlamaWord[] = [];
  for (const token of sentence.replace(DROPPED, '').replace(CJK, ' $1 ').split(/\s+/)) {
    if (token === '') continue;
    if (!token.includes(MASK)) {
      words.push({ text: token, kind: 'plain' });
      continue;
    }
    words.push({ text: MASK, kind: 'mask' });
    const rest = token.split(MASK).join('').trim();
    if (rest !== '') words.push({ text: rest, kind: 'rest' });
  }
  return words;
}

/** Their sentence with `masks` masks: [X] and [Y] filled in their order, each mask its own whitespace token. */
export function mlamaBertSentence(template: string, subject: string, masks: number): string {
  const filled = template.trim().split('[X]').join(subject.trim()).split('[Y]').join(MASK);
  return filled.split(MASK).join(MASK.repeat(masks)).split('][').join('] [');
}

/** The word sequence [CLS] … [SEP] and the mask positions, as their connector feeds the model. */
export function assembleMlamaBert(template: string, subject: string, masks: number, tok: PieceEncoder & { encodeWord: (word: string) => number[] }) {
  const ids = [tok.special.bos];
  const maskPositions: number[] = [];
  for (const w of mlamaBertWords(mlamaBertSentence(template, subject, masks))) {
    if (w.kind === 'mask') {
      maskPositions.push(ids.length);
      ids.push(tok.special.mask);
    } else ids.push(...(w.kind === 'rest' ? tok.encodeWord(w.text) : tok.encodePiece(w.text, true)));
  }
  ids.push(tok.special.eos);
  if (maskPositions.length !== masks)
    fail(`template ${JSON.stringify(template)} with subject ${JSON.stringify(subject)}: ${maskPositions.length} [MASK] tokens for ${masks} masks`);
  return { ids, maskPositions, subjectPositions: [] as number[] };
}
