import type { LukeConfig } from '../model/config.js';
import type { BuiltQuery, Pass } from '../prompts/build.js';

/**
 * The useful FLOPs of one pass: the encoder on its real tokens and entities (no padding), plus the head that
 * is read: the word head at the mask positions (including the full-vocabulary projection its log-softmax
 * needs), or the entity head at the object slot. Multiply-adds count 2; LayerNorm, GELU and softmax are left
 * out, as they are in the usual model-FLOPs accounting.
 */
export function passFlops(c: LukeConfig, head: 'word' | 'entity', p: Pass): number {
  const H = c.hidden_size;
  const L = p.inputIds.length;
  const E = p.entityIds.length;
  const T = L + E;
  const queries = c.use_entity_aware_attention ? 2 : 1;
  const layer = 2 * T * H * H * (queries + 3) + 4 * T * H * c.intermediate_size + 4 * T * T * H;
  let f = c.num_hidden_layers * layer;
  if (c.entity_emb_size !== H) f += 2 * E * c.entity_emb_size * H;
  if (head === 'word') f += p.maskPositions.length * (2 * H * H + 2 * H * c.vocab_size);
  else f += 2 * H * c.entity_emb_size + 2 * c.entity_emb_size * c.entity_vocab_size;
  return f;
}

export function queryFlops(c: LukeConfig, b: BuiltQuery): number {
  return b.passes.reduce((s, p) => s + passFlops(c, b.style.head, p), 0);
}
