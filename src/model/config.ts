/** The fields of transformers' LukeConfig that the architecture depends on (config.json, as transformers writes it). */
export interface LukeConfig {
  model_type: string;
  vocab_size: number;
  entity_vocab_size: number;
  hidden_size: number;
  entity_emb_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: string;
  max_position_embeddings: number;
  type_vocab_size: number;
  layer_norm_eps: number;
  use_entity_aware_attention: boolean;
  pad_token_id: number;
  bos_token_id: number;
  eos_token_id: number;
  architectures?: string[];
}

export const PRESETS = {
  tiny: { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128, entity_emb_size: 32, max_position_embeddings: 130 },
  'base-shaped': { hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, entity_emb_size: 256, max_position_embeddings: 514 },
} as const;
export type PresetName = keyof typeof PRESETS;

export function lukeConfig(preset: PresetName, vocabSize: number, entityVocabSize: number, entityAware: boolean): LukeConfig {
  return {
    model_type: 'luke',
    architectures: ['LukeForMaskedLM'],
    vocab_size: vocabSize,
    entity_vocab_size: entityVocabSize,
    ...PRESETS[preset],
    hidden_act: 'gelu',
    type_vocab_size: 1,
    layer_norm_eps: 1e-5,
    use_entity_aware_attention: entityAware,
    pad_token_id: 1,
    bos_token_id: 0,
    eos_token_id: 2,
  };
}

/**
 * Parameter names follow transformers' LukeForMaskedLM state dict; Linear weights are stored as [in, out]
 * (transposed from PyTorch's [out, in]) so the graph multiplies without a transpose. The output projections are
 * tied to the embeddings, as in mLUKE.
 */
export function parameterShapes(c: LukeConfig): [string, number[]][] {
  const H = c.hidden_size;
  const out: [string, number[]][] = [
    ['embeddings.word_embeddings.weight', [c.vocab_size, H]],
    ['embeddings.position_embeddings.weight', [c.max_position_embeddings, H]],
    ['embeddings.token_type_embeddings.weight', [c.type_vocab_size, H]],
    ['embeddings.LayerNorm.weight', [H]],
    ['embeddings.LayerNorm.bias', [H]],
    ['entity_embeddings.entity_embeddings.weight', [c.entity_vocab_size, c.entity_emb_size]],
    ['entity_embeddings.position_embeddings.weight', [c.max_position_embeddings, H]],
    ['entity_embeddings.token_type_embeddings.weight', [c.type_vocab_size, H]],
    ['entity_embeddings.LayerNorm.weight', [H]],
    ['entity_embeddings.LayerNorm.bias', [H]],
  ];
  if (c.entity_emb_size !== H) out.push(['entity_embeddings.entity_embedding_dense.weight', [c.entity_emb_size, H]]);
  const queries = c.use_entity_aware_attention ? ['query', 'key', 'value', 'w2e_query', 'e2w_query', 'e2e_query'] : ['query', 'key', 'value'];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `encoder.layer.${i}`;
    for (const q of queries) out.push([`${p}.attention.self.${q}.weight`, [H, H]], [`${p}.attention.self.${q}.bias`, [H]]);
    out.push(
      [`${p}.attention.output.dense.weight`, [H, H]], [`${p}.attention.output.dense.bias`, [H]],
      [`${p}.attention.output.LayerNorm.weight`, [H]], [`${p}.attention.output.LayerNorm.bias`, [H]],
      [`${p}.intermediate.dense.weight`, [H, c.intermediate_size]], [`${p}.intermediate.dense.bias`, [c.intermediate_size]],
      [`${p}.output.dense.weight`, [c.intermediate_size, H]], [`${p}.output.dense.bias`, [H]],
      [`${p}.output.LayerNorm.weight`, [H]], [`${p}.output.LayerNorm.bias`, [H]],
    );
  }
  out.push(
    ['lm_head.dense.weight', [H, H]], ['lm_head.dense.bias', [H]],
    ['lm_head.layer_norm.weight', [H]], ['lm_head.layer_norm.bias', [H]],
    ['lm_head.bias', [c.vocab_size]],
    ['entity_predictions.transform.dense.weight', [H, c.entity_emb_size]], ['entity_predictions.transform.dense.bias', [c.entity_emb_size]],
    ['entity_predictions.transform.LayerNorm.weight', [c.entity_emb_size]], ['entity_predictions.transform.LayerNorm.bias', [c.entity_emb_size]],
    ['entity_predictions.bias', [c.entity_vocab_size]],
  );
  return out;
}

export type Weights = Map<string, { dims: number[]; data: Float32Array }>;

/** A seeded xorshift32 generator of numbers in [0, 1): the same sequence on every machine. */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/**
 * Deterministic random weights: a seeded xorshift generator, uniform with the standard deviation transformers
 * initialises with (0.02); LayerNorm scales near 1 so the activations stay in a realistic range.
 */
export function randomWeights(c: LukeConfig, seed: number): Weights {
  const next = xorshift32((seed * 2654435761 + 0x9e3779b9) >>> 0);
  const a = 0.02 * Math.sqrt(3);
  const w: Weights = new Map();
  for (const [name, dims] of parameterShapes(c)) {
    const data = new Float32Array(dims.reduce((x, y) => x * y, 1));
    const isNorm = /LayerNorm|layer_norm/.test(name);
    if (isNorm && name.endsWith('.weight')) for (let i = 0; i < data.length; i++) data[i] = 1 + (next() - 0.5) * 0.2;
    else if (name.endsWith('bias')) for (let i = 0; i < data.length; i++) data[i] = (next() - 0.5) * 0.02;
    else for (let i = 0; i < data.length; i++) data[i] = (next() * 2 - 1) * a;
    w.set(name, { dims, data });
  }
  return w;
}
