import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDataset } from '../data/mlama.js';
import { readLabelIndex } from '../data/labels.js';
import { buildEntityVocab } from '../tokenize/entityVocabBuild.js';
import { entityVocabJson } from '../tokenize/entityVocab.js';
import { padTokenizerJson } from '../tokenize/tokenizerJson.js';
import { PROMPTS_DIR } from '../prompts/styles.js';
import { lukeConfig, randomWeights, type PresetName } from './config.js';
import { buildLukeGraph } from './lukeGraph.js';
import { addWeight, weightFile } from './onnxWriter.js';
import { ensureDir, expectedGraph, FORMAT, MANIFEST, writeChunks, writeJson, type Manifest } from './checkpoint.js';

export const BUNDLED_TOKENIZER = join(PROMPTS_DIR, '..', 'datasets', 'tokenizer', 'unigram-8k.tokenizer.json');
export const BUNDLED_SAMPLE = join(PROMPTS_DIR, '..', 'datasets', 'mlama-sample');

export interface GenerateOptions {
  preset: PresetName;
  out: string;
  seed: number;
  /** mLAMA directory whose labels make up the entity vocabulary. */
  data: string;
  entityAware: boolean;
}

export interface GenerateReport {
  weightBytes: number;
  entities: number;
  vocab: number;
}

/**
 * A LUKE-architecture checkpoint with deterministic random weights, honouring the same contract as an exported
 * mLUKE: tokenizer.json, entity_vocab.json, config.json, the gathered and naive graphs over one weights file.
 */
export function generateCheckpoint(o: GenerateOptions): GenerateReport {
  ensureDir(o.out);
  for (const f of ['model.onnx', 'model.naive.onnx', 'weights.bin', MANIFEST]) rmSync(join(o.out, f), { force: true });
  const baseTokenizer = JSON.parse(readFileSync(BUNDLED_TOKENIZER, 'utf8'));
  const tokenizer = o.preset === 'base-shaped' ? padTokenizerJson(baseTokenizer, 250002) : baseTokenizer;
  const vocab = (tokenizer as { model: { vocab: unknown[] } }).model.vocab.length;
  // The vocabulary does not depend on the weight seed, so runs of two seeds rank the same candidate entities.
  const entries = buildEntityVocab(readLabelIndex(openDataset(o.data)), { seed: 7, fillerTo: o.preset === 'base-shaped' ? 1_000_000 : 0 });
  const entities = entries[entries.length - 1][1] + 1;
  const config = lukeConfig(o.preset, vocab, entities, o.entityAware);
  const weights = randomWeights(config, o.seed);
  const wf = weightFile('weights.bin');
  for (const [name, w] of weights) addWeight(wf, name, w.dims, w.data);
  writeChunks(join(o.out, 'weights.bin'), wf.chunks);
  writeFileSync(join(o.out, 'model.onnx'), buildLukeGraph(config, wf, 'gathered'));
  writeFileSync(join(o.out, 'model.naive.onnx'), buildLukeGraph(config, wf, 'naive'));
  writeFileSync(join(o.out, 'tokenizer.json'), JSON.stringify(tokenizer) + '\n');
  writeFileSync(join(o.out, 'entity_vocab.json'), entityVocabJson(entries));
  writeJson(join(o.out, 'config.json'), config);
  const manifest: Manifest = {
    format: FORMAT,
    architecture: 'luke',
    random_weights: true,
    origin: { generator: 'mlama make-checkpoint', preset: o.preset, seed: o.seed, entity_vocab_from: o.data },
    graphs: { gathered: expectedGraph('gathered', 'luke'), naive: expectedGraph('naive', 'luke') },
    files: { tokenizer: 'tokenizer.json', config: 'config.json', entity_vocab: 'entity_vocab.json', weights: ['weights.bin'] },
  };
  writeJson(join(o.out, MANIFEST), manifest);
  return { weightBytes: wf.offset, entities, vocab };
}
