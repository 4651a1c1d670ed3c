import type { ModelConfig } from '../model/config.js';
import type { ModelFamily } from '../model/families/index.js';

export const PRESETS = {
  tiny: { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128, entity_emb_size: 32, max_position_embeddings: 130 },
  'base-shaped': {
    hidden_size: 768,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    intermediate_size: 3072,
    entity_emb_size: 256,
    max_position_embeddings: 514,
  },
} as const;
export type PresetName = keyof typeof PRESETS;

/**
 * A transformers config.json for a family at a preset's sizes. The entity fields are LUKE's; `pad` is the
 * tokenizer's <pad>/[PAD] id (1 in XLM-R's layout, 0 in BERT's).
 */
export function familyConfig(
  family: ModelFamily,
  preset: PresetName,
  vocabSize: number,
  special: { pad: number; bos: number; eos: number },
  entities?: { size: number; entityAware: boolean },
): ModelConfig {
  const { entity_emb_size, ...sizes } = PRESETS[preset];
  const d = family.configDefaults;
  return {
    model_type: d.model_type,
    architectures: [...d.architectures],
    vocab_size: vocabSize,
    ...(entities ? { entity_vocab_size: entities.size } : {}),
    ...sizes,
    ...(entities ? { entity_emb_size } : {}),
    hidden_act: d.hidden_act,
    type_vocab_size: d.type_vocab_size,
    layer_norm_eps: d.layer_norm_eps,
    ...(entities ? { use_entity_aware_attention: entities.entityAware } : {}),
    pad_token_id: special.pad,
    bos_token_id: special.bos,
    eos_token_id: special.eos,
  };
}

/**
 * Parameter names follow transformers' LukeForMaskedLM state dict for every family (a word-only family has the
 * same names without the entity ones; the generated graphs are the only readers of these names); Linear weights are stored as [in, out]
 * (transposed from PyTorch's [out, in]) so the graph multiplies without a transpose. The output projections are
 * tied to the embeddings, as in mLUKE.
 */
export function parameterShapes(c: ModelConfig): [string, number[]][] {
  const H = c.hidden_size;
  const out: [string, number[]][] = [
    ['embeddings.word_embeddings.weight', [c.vocab_size, H]],
    ['embeddings.position_embeddings.weight', [c.max_position_embeddings, H]],
    ['embeddings.token_type_embeddings.weight', [c.type_vocab_size, H]],
    ['embeddings.LayerNorm.weight', [H]],
    ['embeddings.LayerNorm.bias', [H]],
  ];
  const E = c.entity_vocab_size !== undefined ? { size: c.entity_vocab_size, emb: c.entity_emb_size ?? H } : null;
  if (E) {
    out.push(
      ['entity_embeddings.entity_embeddings.weight', [E.size, E.emb]],
      ['entity_embeddings.position_embeddings.weight', [c.max_position_embeddings, H]],
      ['entity_embeddings.token_type_embeddings.weight', [c.type_vocab_size, H]],
      ['entity_embeddings.LayerNorm.weight', [H]],
      ['entity_embeddings.LayerNorm.bias', [H]],
    );
    if (E.emb !== H) out.push(['entity_embeddings.entity_embedding_dense.weight', [E.emb, H]]);
  }
  const queries = c.use_entity_aware_attention ? ['query', 'key', 'value', 'w2e_query', 'e2w_query', 'e2e_query'] : ['query', 'key', 'value'];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `encoder.layer.${i}`;
    for (const q of queries) out.push([`${p}.attention.self.${q}.weight`, [H, H]], [`${p}.attention.self.${q}.bias`, [H]]);
    out.push(
      [`${p}.attention.output.dense.weight`, [H, H]],
      [`${p}.attention.output.dense.bias`, [H]],
      [`${p}.attention.output.LayerNorm.weight`, [H]],
      [`${p}.attention.output.LayerNorm.bias`, [H]],
      [`${p}.intermediate.dense.weight`, [H, c.intermediate_size]],
      [`${p}.intermediate.dense.bias`, [c.intermediate_size]],
      [`${p}.output.dense.weight`, [c.intermediate_size, H]],
      [`${p}.output.dense.bias`, [H]],
      [`${p}.output.LayerNorm.weight`, [H]],
      [`${p}.output.LayerNorm.bias`, [H]],
    );
  }
  out.push(
    ['lm_head.dense.weight', [H, H]],
    ['lm_head.dense.bias', [H]],
    ['lm_head.layer_norm.weight', [H]],
    ['lm_head.layer_norm.bias', [H]],
    ['lm_head.bias', [c.vocab_size]],
  );
  if (E) {
    out.push(
      ['entity_predictions.transform.dense.weight', [H, E.emb]],
      ['entity_predictions.transform.dense.bias', [E.emb]],
      ['entity_predictions.transform.LayerNorm.weight', [E.emb]],
      ['entity_predictions.transform.LayerNorm.bias', [E.emb]],
      ['entity_predictions.bias', [E.size]],
    );
  }
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
export function randomWeights(c: ModelConfig, seed: number): Weights {
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
