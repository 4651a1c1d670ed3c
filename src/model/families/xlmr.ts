import type { ModelFamily } from './types.js';
import { XLMR_TOKENIZER } from '../../tokenize/tokenizer.js';
import { encoderFlops, wordHeadFlops } from './encoder.js';

/** XLM-R / RoBERTa (XLMRobertaForMaskedLM, RobertaForMaskedLM): the word head only. */
export const xlmr: ModelFamily = {
  name: 'xlmr',
  description: 'XLM-R / RoBERTa (XLMRobertaForMaskedLM): word head only',
  modelTypes: ['xlm-roberta', 'roberta'],
  heads: ['word'],
  inputGroups: ['words'],
  tokenizer: XLMR_TOKENIZER,
  layout: { positions: 'after-padding-idx', tokenTypes: false },
  configDefaults: { model_type: 'xlm-roberta', architectures: ['XLMRobertaForMaskedLM'], layer_norm_eps: 1e-5, type_vocab_size: 1, hidden_act: 'gelu' },
  generatedTokenizer: 'unigram',
  passFlops: (c, _head, p) => encoderFlops(c, p.inputIds.length, 1, p.maskPositions.length) + wordHeadFlops(c, p.maskPositions.length),
};
