/**
 * WordPiece inside a word. BERT's tokenizer splits words at whitespace, punctuation (Unicode P and the ASCII
 * symbols) and CJK ideographs, then matches the longest pieces, each after the first carrying `##`. Text glued to
 * a word char before it (ja "[X]は" after a katakana subject) continues that word, so its first word is matched
 * with `##` pieces only.
 */
const BOUNDARY = /[\s\p{P}!-/:-@[-`{-~\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2fa1f}]/u;

/** Whether text ending in `before` and text starting with `text` make one word for BERT's pre-tokenizer. */
export function gluedWord(before: string, text: string): boolean {
  const last = [...before.slice(-2)].at(-1);
  const first = [...text.slice(0, 2)][0];
  return last !== undefined && first !== undefined && !BOUNDARY.test(last) && !BOUNDARY.test(first);
}

/** The run of characters at the start of `text` up to the first word boundary. */
export function leadingWord(text: string): string {
  let end = 0;
  for (const ch of text) {
    if (BOUNDARY.test(ch)) break;
    end += ch.length;
  }
  return text.slice(0, end);
}

export interface WordPieceModel {
  vocab: Record<string, number>;
  continuing_subword_prefix?: string;
  max_input_chars_per_word?: number;
}

/** Ids of `word` as the continuation of a word: greedy longest `##` pieces; [UNK] when some part has none. */
export function continuationPieces(model: WordPieceModel, unk: number): (word: string) => number[] {
  return greedyPieces(model, unk, true);
}

/** Ids of `word` as one whole word, with no pre-tokenization (not split at punctuation): its first piece bare. */
export function wholeWordPieces(model: WordPieceModel, unk: number): (word: string) => number[] {
  return greedyPieces(model, unk, false);
}

function greedyPieces(model: WordPieceModel, unk: number, continuing: boolean): (word: string) => number[] {
  const prefix = model.continuing_subword_prefix ?? '##';
  const max = model.max_input_chars_per_word ?? 100;
  return (word) => {
    const chars = [...word];
    if (chars.length > max) return [unk];
    const ids: number[] = [];
    for (let start = 0; start < chars.length; ) {
      const pre = continuing || start > 0 ? prefix : '';
      let end = chars.length;
      let id: number | undefined;
      for (; end > start; end--) if ((id = model.vocab[pre + chars.slice(start, end).join('')]) !== undefined) break;
      if (id === undefined) return [unk];
      ids.push(id);
      start = end;
    }
    return ids;
  };
}
