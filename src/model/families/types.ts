import type { Pass } from '../../prompts/build.js';
import type { ModelConfig } from '../config.js';
import type { Head, InputGroup } from '../contract.js';
import type { TokenizerConventions } from '../../tokenize/tokenizer.js';

export interface InputLayout {
  /** Word position ids: RoBERTa counts real tokens from padding_idx + 1; BERT counts from 0. */
  positions: 'after-padding-idx' | 'from-zero';
  /** The graph takes `token_type_ids` [B,L] (BERT; all zeros for one segment). */
  tokenTypes: boolean;
}

/** Config fields a generated checkpoint of this family gets besides the preset's sizes. */
export interface ConfigDefaults {
  model_type: string;
  architectures: string[];
  layer_norm_eps: number;
  type_vocab_size: number;
  hidden_act: string;
}

/**
 * A model family: what its graphs take and return, its tokenizer conventions, how its inputs are laid out,
 * which heads (request types) it serves, and its FLOP count. One module per family, registered in index.ts.
 */
export interface ModelFamily {
  name: string;
  description: string;
  /** transformers model_type values (config.json) this family loads; the exporter picks its branch by these. */
  modelTypes: readonly string[];
  heads: readonly Head[];
  /** Input groups of the contract (src/model/contract.json) the graphs take. */
  inputGroups: readonly InputGroup[];
  tokenizer: TokenizerConventions;
  layout: InputLayout;
  configDefaults: ConfigDefaults;
  /** Which bundled tokenizer the generator gives a generated checkpoint. */
  generatedTokenizer: 'unigram' | 'wordpiece';
  /** Useful FLOPs of one pass (multiply-adds count 2), for the benchmark's MFU. */
  passFlops(c: ModelConfig, head: Head, p: Pass): number;
}
