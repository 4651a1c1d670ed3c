import type { ModelConfig } from '../config.js';

/**
 * FLOPs of a transformer encoder over T real tokens (no padding) with `queries` query projections per layer,
 * when a head reads `read` rows of its output: the last layer's keys and values are needed at every token, but
 * its queries, attention rows, output projection and feed-forward only at the rows read (the words graph computes
 * just those; a graph that computes the rest does work no answer needs, and its MFU shows it).
 * LayerNorm, GELU and softmax are left out, as in the usual model-FLOPs accounting.
 */
export function encoderFlops(c: ModelConfig, T: number, queries = 1, read = T): number {
  const H = c.hidden_size;
  const layer = (R: number) => 4 * T * H * H + 2 * R * H * H * (queries + 1) + 4 * R * H * c.intermediate_size + 4 * R * T * H;
  return (c.num_hidden_layers - 1) * layer(T) + layer(Math.min(read, T));
}

/** The word head at `masks` positions, including the full-vocabulary projection its log-softmax needs. */
export function wordHeadFlops(c: ModelConfig, masks: number): number {
  return masks * (2 * c.hidden_size * c.hidden_size + 2 * c.hidden_size * c.vocab_size);
}
