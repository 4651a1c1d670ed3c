/**
 * Builds a Hugging Face tokenizer.json for a SentencePiece Unigram vocabulary laid out the way XLM-R (fairseq)
 * lays it out: <s>=0, <pad>=1, </s>=2, <unk>=3, then the SentencePiece pieces from its id 3 on (each shifted by
 * one), <mask> last. Extra added tokens (mLUKE's <ent>, <ent2>) come after <mask>.
 */
export interface SpmPiece {
  piece: string;
  score: number;
}

export function xlmrTokenizerJson(spmPieces: SpmPiece[], opts: { extraAddedTokens?: string[]; fillerPieces?: number } = {}): object {
  // spm ids 0..2 are <unk>, <s>, </s>; fairseq keeps its own four specials in front instead.
  const pieces = spmPieces.slice(3);
  const vocab: [string, number][] = [
    ['<s>', 0],
    ['<pad>', 0],
    ['</s>', 0],
    ['<unk>', 0],
  ];
  for (const p of pieces) vocab.push([p.piece, p.score]);
  // Filler pieces give a full-size vocabulary (base-shaped checkpoints) without changing how real text splits:
  // they are private-use characters that mLAMA never contains.
  for (let i = 0; i < (opts.fillerPieces ?? 0); i++) vocab.push([fillerPiece(i), -1000]);
  const maskId = vocab.length;
  vocab.push(['<mask>', 0]);
  const added = (id: number, content: string, lstrip = false) => ({ id, content, single_word: false, lstrip, rstrip: false, normalized: false, special: true });
  const addedTokens = [added(0, '<s>'), added(1, '<pad>'), added(2, '</s>'), added(3, '<unk>'), added(maskId, '<mask>', true)];
  for (const t of opts.extraAddedTokens ?? []) {
    addedTokens.push(added(vocab.length, t));
    vocab.push([t, 0]);
  }
  const special = (t: string, id: number) => ({ id: t, ids: [id], tokens: [t] });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: { type: 'NFKC' },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
      ],
      special_tokens: { '<s>': special('<s>', 0), '</s>': special('</s>', 2) },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 3, vocab, byte_fallback: true },
  };
}

function fillerPiece(i: number): string {
  // Two private-use code points per piece: 6,400 x 6,400 distinct pieces.
  return String.fromCharCode(0xe000 + (i % 6400), 0xe000 + Math.floor(i / 6400));
}

export function parseSpmVocab(text: string): SpmPiece[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const tab = l.lastIndexOf('\t');
      return { piece: l.slice(0, tab), score: Number(l.slice(tab + 1)) };
    });
}

/** The same tokenizer grown to `size` ids with unreachable filler pieces before <mask> (base-shaped checkpoints). */
export function padTokenizerJson(json: { model: { vocab: [string, number][] }; added_tokens: { id: number; content: string }[] }, size: number): object {
  const vocab = json.model.vocab.filter(([p]) => p !== '<mask>');
  const fill = size - vocab.length - 1;
  if (fill < 0) throw new Error(`tokenizer already has ${vocab.length + 1} ids, more than ${size}`);
  for (let i = 0; i < fill; i++) vocab.push([fillerPiece(i), -1000]);
  const maskId = vocab.length;
  vocab.push(['<mask>', 0]);
  return { ...json, model: { ...json.model, vocab }, added_tokens: json.added_tokens.map((a) => (a.content === '<mask>' ? { ...a, id: maskId } : a)) };
}

/** A WordPiece tokenizer.json grown to `size` ids with unreachable filler pieces after the learned ones (base-shaped BERT). */
export function padWordPieceJson(json: { model: { vocab: Record<string, number> } }, size: number): object {
  const vocab = { ...json.model.vocab };
  const have = Object.keys(vocab).length;
  if (have > size) throw new Error(`tokenizer already has ${have} ids, more than ${size}`);
  for (let i = 0; have + i < size; i++) vocab[fillerPiece(i)] = have + i;
  return { ...json, model: { ...json.model, vocab } };
}
