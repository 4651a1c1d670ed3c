import type { ModelConfig } from '../config.js';

/**
 * FLOPs of a transformer encoder over T real tokens (no padding) with `queries` query projections per layer,
 * plus the word head at `masks` positions including the full-vocabulary projection its log-softmax needs.
 * LayerNorm, GELU and softmax are left out, as in the usual model-FLOPs accounting.
 */
export function encoderFlops(c: ModelConfig, T: number, queries = 1): number {
  const H = c.hidden_size;
  return c.num_hidden_layers * (2 * T * H * H * (queries + 3) + 4 * T * H * c.intermediate_size + 4 * T * T * H);
}

export function wordHeadFlops(c: ModelConfig, masks: number): number {
  return masks * (2 * c.hidden_size * c.hidden_size + 2 * c.hidden_size * c.vocab_size);
}
