import type { ModelFamily } from './types.js';
import { encoderFlops, wordHeadFlops } from './encoder.js';

/** BERT / multilingual BERT (BertForMaskedLM): WordPiece, [CLS] $A [SEP], positions from 0, token types; word head only. */
export const bert: ModelFamily = {
  name: 'bert',
  description: 'BERT / multilingual BERT (BertForMaskedLM): WordPiece tokenizer, word head only',
  modelTypes: ['bert'],
  heads: ['word'],
  inputGroups: ['words', 'token_types'],
  tokenizer: {
    specials: { bos: '[CLS]', eos: '[SEP]', pad: '[PAD]', unk: '[UNK]', mask: '[MASK]' },
    wordBoundary: 'wordpiece',
    template: '[CLS] $A [SEP]',
  },
  layout: { positions: 'from-zero', tokenTypes: true },
  configDefaults: { model_type: 'bert', architectures: ['BertForMaskedLM'], layer_norm_eps: 1e-12, type_vocab_size: 2, hidden_act: 'gelu' },
  generatedTokenizer: 'wordpiece',
  passFlops: (c, _head, p) => encoderFlops(c, p.inputIds.length, 1, p.maskPositions.length) + wordHeadFlops(c, p.maskPositions.length),
};
