import type { ModelFamily } from './types.js';
import { XLMR_TOKENIZER } from '../../tokenize/tokenizer.js';
import { encoderFlops } from './encoder.js';
import { headSpec } from '../heads.js';

/** LUKE / mLUKE (LukeForMaskedLM): XLM-R words plus entity inputs; the word and the entity head. */
export const luke: ModelFamily = {
  name: 'luke',
  description: 'LUKE / mLUKE (LukeForMaskedLM): word and entity heads, entity inputs',
  modelTypes: ['luke'],
  heads: ['word', 'entity'],
  inputGroups: ['words', 'entities'],
  tokenizer: XLMR_TOKENIZER,
  layout: { positions: 'after-padding-idx', tokenTypes: false },
  configDefaults: { model_type: 'luke', architectures: ['LukeForMaskedLM'], layer_norm_eps: 1e-5, type_vocab_size: 1, hidden_act: 'gelu' },
  generatedTokenizer: 'unigram',
  passFlops(c, head, p) {
    const E = p.entityIds.length;
    const entityEmb = c.entity_emb_size ?? c.hidden_size;
    // Entity-aware attention projects each token's query twice (to words, to entities); without entity inputs
    // LUKE runs plain self-attention (the words graph), one query.
    // The word head reads the mask rows; the entity head one slot, the object [MASK] entity.
    const spec = headSpec(head);
    let f = encoderFlops(c, p.inputIds.length + E, c.use_entity_aware_attention && E > 0 ? 2 : 1, spec.rowsRead(p));
    if (entityEmb !== c.hidden_size) f += 2 * E * entityEmb * c.hidden_size;
    return f + spec.flops(c, p);
  },
};
