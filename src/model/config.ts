/**
 * The fields of a transformers config.json that the harness and the generator depend on: LukeConfig,
 * XLMRobertaConfig and BertConfig share the encoder fields; the entity fields are LUKE's alone.
 */
export interface ModelConfig {
  model_type: string;
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: string;
  max_position_embeddings: number;
  type_vocab_size: number;
  layer_norm_eps: number;
  pad_token_id: number;
  bos_token_id?: number;
  eos_token_id?: number;
  architectures?: string[];
  entity_vocab_size?: number;
  entity_emb_size?: number;
  use_entity_aware_attention?: boolean;
}

/** A LUKE config: the entity fields are present. */
export type LukeConfig = ModelConfig & { entity_vocab_size: number; entity_emb_size: number; use_entity_aware_attention: boolean };
