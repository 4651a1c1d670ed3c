import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';
import type { Head } from '../types.js';

export type { Head } from '../types.js';
export type InputGroup = 'words' | 'token_types' | 'entities';
/** gathered: log-probabilities of the candidates only; naive: full logits; words: LUKE without entity inputs, word head. */
export type Variant = 'gathered' | 'naive' | 'words';

interface Contract {
  format: string;
  manifest: string;
  files: Record<Variant | 'weights' | 'tokenizer' | 'config' | 'entity_vocab', string>;
  input_groups: Record<InputGroup, string[]>;
  heads: Record<Head, { gather_inputs: string[]; gathered_output: string; naive_output: string }>;
  dynamic_axes: Record<string, string[]>;
}

/** src/model/contract.json: the one list of graph names that the generator, the loader and the exporter follow. */
export const CONTRACT = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'src', 'model', 'contract.json'), 'utf8')) as Contract;

export interface GraphSignature {
  file: string;
  inputs: string[];
  outputs: string[];
}

/** What a graph takes and returns, given the input groups a family feeds and the heads it serves. */
export function graphSignature(variant: Variant, groups: readonly InputGroup[], heads: readonly Head[]): GraphSignature {
  if (variant === 'words') return { ...graphSignature('gathered', ['words'], ['word']), file: CONTRACT.files.words };
  const inputs = groups.flatMap((g) => CONTRACT.input_groups[g]);
  if (variant === 'gathered') inputs.push(...heads.flatMap((h) => CONTRACT.heads[h].gather_inputs));
  const outputs = heads.map((h) => (variant === 'gathered' ? CONTRACT.heads[h].gathered_output : CONTRACT.heads[h].naive_output));
  return { file: CONTRACT.files[variant], inputs, outputs };
}
